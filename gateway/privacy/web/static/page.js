// The /privacy pages work without this script; it only adds two conveniences.
// Served from this site alone (CSP allows this file by its hash); it sends nothing.
//
// 1. Copy buttons: <button data-copy="ID"> copies the text of #ID (the status token).
// 2. The link in the confirmation message, /privacy/follow#REQUEST:RETURN_CODE: the part
//    after # never reaches a server, log or Referer. The script puts it into the form on
//    that page and drops it from the address bar; the customer still presses the button
//    (nothing is sent without them).
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
  const form = document.getElementById("follow");
  const match = /^#([0-9a-f-]{36}):(opgr_[A-Za-z0-9_-]{1,64})$/.exec(window.location.hash);
  if (!form || !match) {
    return;
  }
  history.replaceState(null, "", window.location.pathname);
  form.elements.request_id.value = match[1];
  form.elements.return_code.value = match[2];
  form.querySelector("button").focus();
})();
