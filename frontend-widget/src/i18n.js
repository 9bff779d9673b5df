// The widget's words in English, German, French and Spanish. The language comes from the embed
// tag's `data-locale`, then the site's locale, then the browser's languages; English otherwise.

export const STRINGS = {
  en: {
    openChat: "Open chat",
    closeChat: "Close chat",
    chat: "Chat",
    greeting: "Hi! How can we help?",
    messages: "Messages",
    inputLabel: "Your message",
    placeholder: "Write a message…",
    send: "Send",
    sending: "Sending…",
    seen: "Seen",
    you: "You",
    agent: "Support",
    typing: "{name} is typing…",
    someone: "Someone",
    offline: "You are offline. Reconnecting…",
    lost: "Connection lost. Your messages will be sent when you are back online.",
    back: "Connected again.",
    consentText:
      "To chat with us, this widget keeps a conversation id in your browser and connects to our chat service. Nothing is stored until you accept.",
    consentTitle: "Before we chat",
    consentAccept: "Accept and chat",
    consentDecline: "No thanks",
    consentDeclined: "No problem: nothing was stored.",
    rateAsk: "How was this conversation?",
    rateScore: "{n} out of 5",
    rateComment: "Add a comment (optional)",
    rateSend: "Send rating",
    rateLater: "Not now",
    rateThanks: "Thank you for your rating!",
    rateFailed: "Your rating could not be sent. Please try again.",
    limited: "Chat is unavailable right now. We will keep trying.",
    full: "The team cannot receive messages right now. Please try again later.",
    slowDown: "You have sent many messages. Please wait a while before sending more.",
    closed: "This chat is closed.",
    tooLong: "This message is too long.",
    rateLimited: "You are sending messages too fast. They will be sent shortly.",
    unread: "{n} unread",
    newMessage: "New message from {name}: {text}",
    earlier: "Show earlier messages",
    previewNotice: "The team sees what you type before you send it.",
  },
  de: {
    openChat: "Chat öffnen",
    closeChat: "Chat schließen",
    chat: "Chat",
    greeting: "Hallo! Wie können wir helfen?",
    messages: "Nachrichten",
    inputLabel: "Ihre Nachricht",
    placeholder: "Nachricht schreiben…",
    send: "Senden",
    sending: "Wird gesendet…",
    seen: "Gelesen",
    you: "Sie",
    agent: "Support",
    typing: "{name} schreibt…",
    someone: "Jemand",
    offline: "Keine Verbindung. Verbinde erneut…",
    lost: "Verbindung verloren. Ihre Nachrichten werden gesendet, sobald Sie wieder online sind.",
    back: "Wieder verbunden.",
    consentText:
      "Für den Chat speichert dieses Widget eine Gesprächskennung in Ihrem Browser und verbindet sich mit unserem Chat-Dienst. Bis Sie zustimmen, wird nichts gespeichert.",
    consentTitle: "Bevor wir chatten",
    consentAccept: "Zustimmen und chatten",
    consentDecline: "Nein, danke",
    consentDeclined: "Kein Problem: Es wurde nichts gespeichert.",
    rateAsk: "Wie war dieses Gespräch?",
    rateScore: "{n} von 5",
    rateComment: "Kommentar hinzufügen (optional)",
    rateSend: "Bewertung senden",
    rateLater: "Nicht jetzt",
    rateThanks: "Danke für Ihre Bewertung!",
    rateFailed: "Ihre Bewertung konnte nicht gesendet werden. Bitte versuchen Sie es erneut.",
    limited: "Der Chat ist gerade nicht verfügbar. Wir versuchen es weiter.",
    full: "Das Team kann gerade keine Nachrichten empfangen. Bitte versuchen Sie es später.",
    slowDown: "Sie haben viele Nachrichten gesendet. Bitte warten Sie eine Weile.",
    closed: "Dieser Chat ist geschlossen.",
    tooLong: "Diese Nachricht ist zu lang.",
    rateLimited: "Sie senden zu schnell. Die Nachrichten werden gleich gesendet.",
    unread: "{n} ungelesen",
    newMessage: "Neue Nachricht von {name}: {text}",
    earlier: "Frühere Nachrichten anzeigen",
    previewNotice: "Das Team sieht, was Sie schreiben, bevor Sie es senden.",
  },
  fr: {
    openChat: "Ouvrir le chat",
    closeChat: "Fermer le chat",
    chat: "Chat",
    greeting: "Bonjour ! Comment pouvons-nous vous aider ?",
    messages: "Messages",
    inputLabel: "Votre message",
    placeholder: "Écrivez un message…",
    send: "Envoyer",
    sending: "Envoi…",
    seen: "Vu",
    you: "Vous",
    agent: "Support",
    typing: "{name} écrit…",
    someone: "Quelqu’un",
    offline: "Vous êtes hors ligne. Reconnexion…",
    lost: "Connexion perdue. Vos messages partiront dès que vous serez de nouveau en ligne.",
    back: "De nouveau connecté.",
    consentText:
      "Pour discuter avec nous, ce widget garde un identifiant de conversation dans votre navigateur et se connecte à notre service de chat. Rien n’est enregistré avant votre accord.",
    consentTitle: "Avant de discuter",
    consentAccept: "Accepter et discuter",
    consentDecline: "Non merci",
    consentDeclined: "Pas de souci : rien n’a été enregistré.",
    rateAsk: "Comment s’est passée cette conversation ?",
    rateScore: "{n} sur 5",
    rateComment: "Ajouter un commentaire (facultatif)",
    rateSend: "Envoyer la note",
    rateLater: "Plus tard",
    rateThanks: "Merci pour votre note !",
    rateFailed: "Votre note n’a pas pu être envoyée. Réessayez.",
    limited: "Le chat est indisponible pour le moment. Nous réessayons.",
    full: "L’équipe ne peut pas recevoir de messages pour le moment. Réessayez plus tard.",
    slowDown: "Vous avez envoyé beaucoup de messages. Patientez un moment.",
    closed: "Cette conversation est fermée.",
    tooLong: "Ce message est trop long.",
    rateLimited: "Vous envoyez trop vite. Vos messages partiront dans un instant.",
    unread: "{n} non lus",
    newMessage: "Nouveau message de {name} : {text}",
    earlier: "Afficher les messages précédents",
    previewNotice: "L’équipe voit ce que vous écrivez avant l’envoi.",
  },
  es: {
    openChat: "Abrir el chat",
    closeChat: "Cerrar el chat",
    chat: "Chat",
    greeting: "¡Hola! ¿En qué podemos ayudarte?",
    messages: "Mensajes",
    inputLabel: "Tu mensaje",
    placeholder: "Escribe un mensaje…",
    send: "Enviar",
    sending: "Enviando…",
    seen: "Visto",
    you: "Tú",
    agent: "Soporte",
    typing: "{name} está escribiendo…",
    someone: "Alguien",
    offline: "Sin conexión. Reconectando…",
    lost: "Conexión perdida. Tus mensajes se enviarán cuando vuelvas a estar en línea.",
    back: "Conectado de nuevo.",
    consentText:
      "Para chatear con nosotros, este widget guarda un identificador de conversación en tu navegador y se conecta a nuestro servicio de chat. No se guarda nada hasta que aceptes.",
    consentTitle: "Antes de chatear",
    consentAccept: "Aceptar y chatear",
    consentDecline: "No, gracias",
    consentDeclined: "Sin problema: no se ha guardado nada.",
    rateAsk: "¿Qué tal fue esta conversación?",
    rateScore: "{n} de 5",
    rateComment: "Añade un comentario (opcional)",
    rateSend: "Enviar valoración",
    rateLater: "Ahora no",
    rateThanks: "¡Gracias por tu valoración!",
    rateFailed: "No se pudo enviar tu valoración. Inténtalo de nuevo.",
    limited: "El chat no está disponible ahora. Seguiremos intentándolo.",
    full: "El equipo no puede recibir mensajes ahora. Inténtelo más tarde.",
    slowDown: "Ha enviado muchos mensajes. Espere un rato antes de enviar más.",
    closed: "Esta conversación está cerrada.",
    tooLong: "Este mensaje es demasiado largo.",
    rateLimited: "Estás enviando demasiado rápido. Tus mensajes se enviarán enseguida.",
    unread: "{n} sin leer",
    newMessage: "Nuevo mensaje de {name}: {text}",
    earlier: "Ver mensajes anteriores",
    previewNotice: "El equipo ve lo que escribes antes de que lo envíes.",
  },
};

export const LOCALES = Object.keys(STRINGS);

// The first supported language among the candidates ("de-AT" matches "de"), or English.
export function pickLocale(candidates) {
  for (const candidate of candidates) {
    if (typeof candidate !== "string" || !candidate) continue;
    const tag = candidate.toLowerCase().replace("_", "-");
    if (STRINGS[tag]) return tag;
    const primary = tag.split("-")[0];
    if (STRINGS[primary]) return primary;
  }
  return "en";
}

export function translator(locale) {
  const table = STRINGS[locale] ?? STRINGS.en;
  return (key, values = {}) =>
    (table[key] ?? STRINGS.en[key] ?? key).replace(/\{(\w+)\}/g, (whole, name) =>
      name in values ? String(values[name]) : whole,
    );
}

// A message's `ts` (ISO 8601 text, or Unix seconds or milliseconds) as a local time of day.
export function toDate(ts) {
  if (typeof ts === "number" && Number.isFinite(ts)) return new Date(ts < 1e12 ? ts * 1000 : ts);
  if (typeof ts === "string" && ts) {
    const parsed = Date.parse(ts);
    if (!Number.isNaN(parsed)) return new Date(parsed);
  }
  return null;
}

export function formatTime(ts, locale) {
  const date = toDate(ts);
  if (!date) return "";
  try {
    return new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" }).format(date);
  } catch {
    return date.toISOString().slice(11, 16);
  }
}
