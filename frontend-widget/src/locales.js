// Every language's words at once, for what is not the widget's first load: the build (which
// writes each as dist/locales/<locale>.json), the dashboard's preview and the tests.
import de from "./strings/de.js";
import en from "./strings/en.js";
import es from "./strings/es.js";
import fr from "./strings/fr.js";

export const STRINGS = { en, de, fr, es };
