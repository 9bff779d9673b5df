"""Put Parley's import path into the virtualenv: the repository root and `platform/`.

`platform/` is a plain folder, not a package (a package of that name would shadow Python's own
module), so every entry point adds it to the path. Written as a `.pth` file into the venv's
site-packages, the same two folders reach the tools that run outside those entry points too
(`lint-imports`, a script run with `.venv/bin/python`). `make install` runs this.
"""

import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    site_packages = Path(sysconfig.get_paths()["purelib"])
    (site_packages / "parley-import-path.pth").write_text(f"{ROOT}\n{ROOT / 'platform'}\n")


if __name__ == "__main__":
    main()
