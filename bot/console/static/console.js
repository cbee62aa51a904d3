// Optional helpers for the console; every page works without them (forms submit).
"use strict";

// The agenda editor: as the moderator types, the agenda is checked on the server by the
// same validator as `hashchat check`, and each problem is shown at its field.
function watchAgenda(form) {
  const url = form.dataset.check;
  let timer = null;
  const show = (box, texts) => {
    box.replaceChildren();
    for (const text of texts) {
      const p = document.createElement("p");
      p.className = "problem";
      p.textContent = text;  // never HTML: the texts quote what was typed
      box.appendChild(p);
    }
  };
  const check = async () => {
    const response = await fetch(url, { method: "POST", body: new FormData(form) });
    if (!response.ok) return;
    const found = await response.json();
    for (const box of form.querySelectorAll(".problems")) {
      const name = box.id.slice("problem-".length);
      const texts = found.fields[name] || [];
      show(box, texts);
      const input = document.getElementById(name);
      if (input) {
        input.classList.toggle("invalid", texts.length > 0);
        if (texts.length) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      }
    }
    show(document.getElementById("problems-general"), found.general);
  };
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
}

// The live panel: reload its figures every few seconds while the chat runs.
function watchLive(panel) {
  const url = panel.dataset.poll;
  const refresh = async () => {
    const response = await fetch(url, { credentials: "same-origin" });
    if (response.ok) {
      const html = await response.text();
      const next = new DOMParser().parseFromString(html, "text/html").getElementById("live");
      if (next) panel.replaceChildren(...next.childNodes);
    }
  };
  setInterval(refresh, 3000);
}

document.addEventListener("DOMContentLoaded", () => {
  const agenda = document.getElementById("agenda");
  if (agenda && agenda.dataset.check) watchAgenda(agenda);
  const live = document.getElementById("live");
  if (live && live.dataset.poll) watchLive(live);
});
