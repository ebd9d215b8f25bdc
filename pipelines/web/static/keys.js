// Keyboard shortcuts of the review pages (no framework, no build step).
// j / k: next / previous item, m: match, n: no-match, s: split, u: undo, a: apply, /: search, Esc: leave a field.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }
  function go(id) { var a = document.getElementById(id); if (a) { window.location.href = a.href; } }
  // Submit the decision form with the button of this kind; ask for the reason first when it is empty.
  function decide(buttonId) {
    var button = document.getElementById(buttonId);
    if (!button) { return; }
    var reason = document.getElementById("reason");
    if (reason && !reason.value.trim()) {
      reason.focus();
      reason.dataset.pending = buttonId;
      reason.placeholder = "Type the reason, then press Enter";
      return;
    }
    button.click();
  }
  var rows = [], current = -1;
  function select(i) {
    if (!rows.length) { return; }
    if (current >= 0) { rows[current].classList.remove("current"); }
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows[current].classList.add("current");
    rows[current].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("DOMContentLoaded", function () {
    rows = Array.prototype.slice.call(document.querySelectorAll("tr.item[data-href]"));
    var reason = document.getElementById("reason");
    if (reason) {
      reason.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.shiftKey && reason.dataset.pending && reason.value.trim()) {
          e.preventDefault();
          document.getElementById(reason.dataset.pending).click();
        }
      });
    }
  });
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (e.key === "Escape" && typing(document.activeElement)) { document.activeElement.blur(); return; }
    if (typing(document.activeElement)) { return; }
    switch (e.key) {
      case "j": if (rows.length) { select(current + 1); } else { go("next"); } break;
      case "k": if (rows.length) { select(current - 1); } else { go("prev"); } break;
      case "Enter": if (rows.length && current >= 0) { window.location.href = rows[current].dataset.href; } else { return; } break;
      case "m": decide("btn-match"); break;
      case "n": decide("btn-no-match"); break;
      case "s": decide("btn-split"); break;
      case "u": var undo = document.querySelector("input.undo-reason"); if (undo) { undo.focus(); } break;
      case "a": var apply = document.getElementById("apply"); if (apply) { apply.click(); } break;
      case "/": var box = document.getElementById("search") || document.getElementById("q"); if (box) { box.focus(); box.select(); } break;
      default: return;
    }
    e.preventDefault();
  });
})();
