// The /privacy pages work without this script; it only adds two conveniences.
// Served from this site alone (CSP script-src 'self'); it sends nothing anywhere.
//
// 1. Copy buttons: <button data-copy="ID"> copies the text of #ID (the status token).
// 2. The return link in the confirmation message, /privacy#follow=REQUEST:TOKEN: the
//    part after # never reaches a server, log or Referer. The script moves it into the
//    "follow a request" form, drops it from the address bar, and sends the form.
"use strict";

document.querySelectorAll("button[data-copy]").forEach((button) => {
  const source = document.getElementById(button.dataset.copy);
  const done = document.getElementById(button.dataset.copy + "-copied");
  if (!source || !navigator.clipboard) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", () => {
    navigator.clipboard.writeText(source.textContent.trim()).then(() => {
      if (done) {
        done.hidden = false;
      }
    });
  });
});

(() => {
  const match = /^#follow=([0-9a-f-]{36}):([A-Za-z0-9_-]{1,100})$/.exec(window.location.hash);
  const form = document.getElementById("lookup");
  if (!match || !form) {
    return;
  }
  history.replaceState(null, "", window.location.pathname);
  form.elements.request_id.value = match[1];
  form.elements.status_token.value = match[2];
  form.submit();
})();
