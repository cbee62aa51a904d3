// Shows each chat's start in the reader's own time zone beside the community's time.
// The page is complete without it: the community's time is already written out.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when.getTime())) return;
    var lang = document.documentElement.lang || undefined;
    var text = when.toLocaleString(lang, { weekday: "short", hour: "2-digit", minute: "2-digit" });
    var note = document.createElement("span");
    note.className = "tz-local";
    note.textContent = el.getAttribute("data-local").replace("{time}", text);
    el.insertAdjacentElement("afterend", note);
  });
});
