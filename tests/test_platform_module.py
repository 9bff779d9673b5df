"""platform/ is a plain folder, so Python's own `platform` module keeps working (DESIGN.md)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_stdlib_platform_module_works_inside_the_test_process():
    import platform

    assert platform.system() == "Linux"
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_stdlib_platform_module_works_through_manage_py():
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", "import platform; print(platform.system())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("Linux")
