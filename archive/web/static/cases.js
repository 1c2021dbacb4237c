// The case form's "Thêm hành vi" button: copies the last violation row, emptied. Without JavaScript the
// form always ends with one empty row, and saving adds another, so the button is only a convenience.
(function () {
  "use strict";
  var button = document.getElementById("add-violation");
  if (!button) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    var rows = document.querySelectorAll("#violations tr.violation-row");
    var last = rows[rows.length - 1];
    var copy = last.cloneNode(true);
    copy.querySelectorAll("input").forEach(function (input) {
      input.value = "";
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
      input.setAttribute("aria-label", input.getAttribute("aria-label").replace(/\d+$/, String(rows.length + 1)));
    });
    copy.querySelectorAll(".error").forEach(function (error) { error.remove(); });
    last.parentNode.appendChild(copy);
    copy.querySelector("input").focus();
  });
}());
