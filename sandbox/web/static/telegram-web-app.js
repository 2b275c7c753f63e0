// The sandbox's stand-in for https://telegram.org/js/telegram-web-app.js (no internet here):
// the part of window.Telegram.WebApp the leaders' scanner uses. The init data comes in the
// page's address after "#tgWebAppData=", as Telegram's apps pass it, signed by the sandbox with
// the bot's token (sandbox/webapp.py); the bot checks it as it checks Telegram's. The "camera"
// is a list of the QR codes in the photos the bot sent in the sandbox's chats.
"use strict";
(function () {
  const hash = new URLSearchParams(location.hash.slice(1));
  const initData = hash.get("tgWebAppData") || "";
  let popup = null;

  function closeScanQrPopup() {
    if (popup) popup.remove();
    popup = null;
  }

  function button(text, onclick) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.style.cssText = "display:block;width:100%;margin:6px 0;padding:10px;font-size:15px;text-align:left";
    b.addEventListener("click", onclick);
    return b;
  }

  async function showScanQrPopup(params, callback) {
    closeScanQrPopup();
    popup = document.createElement("div");
    popup.id = "tg-scan-popup";
    popup.setAttribute("role", "dialog");
    popup.style.cssText = "position:fixed;inset:0;background:rgba(0,0,0,.85);color:#fff;" +
      "padding:16px;overflow:auto;font:15px system-ui,sans-serif;z-index:10";
    const title = document.createElement("p");
    title.textContent = (params && params.text) || "";
    popup.append(title);
    document.body.append(popup);
    let codes = [];
    try {
      codes = (await (await fetch("/api/scannable")).json()).codes;
    } catch (_) { /* nothing to scan */ }
    for (const code of codes) {
      popup.append(button(`📷 ${code.chat} · ${code.text.slice(0, 28)}…`, () => {
        if (callback(code.text) === true) closeScanQrPopup();
      }));
    }
    popup.append(button("✕", closeScanQrPopup));
  }

  window.Telegram = {
    WebApp: {
      initData,
      platform: "sandbox",
      version: "7.0",
      themeParams: {},
      ready() {},
      expand() {},
      showScanQrPopup,
      closeScanQrPopup,
    },
  };
})();
