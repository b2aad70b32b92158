// Warrant workbench: conveniences only. Every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var form = document.getElementById("what-if");
  function rows() { return form ? form.querySelectorAll(".edit-row") : []; }
  function firstEmpty() {
    var all = rows();
    for (var i = 0; i < all.length; i++) {
      var input = all[i].querySelector("input[name=field]");
      if (!input.value) { return input; }
    }
    return addRow().querySelector("input[name=field]");
  }
  function addRow() {
    var all = rows(), last = all[all.length - 1], copy = last.cloneNode(true), n = all.length;
    copy.querySelectorAll("input").forEach(function (input) {
      input.value = "";
      input.id = input.name + "-" + n;
    });
    copy.querySelectorAll("label").forEach(function (label) {
      label.htmlFor = label.htmlFor.replace(/-\d+$/, "-" + n);
      label.textContent = label.textContent.replace(/\d+$/, String(n + 1));
    });
    last.parentNode.appendChild(copy);
    return copy;
  }
  var add = document.getElementById("add-row");
  if (add && form) { add.addEventListener("click", function () { addRow().querySelector("input").focus(); }); }
  // "Try a value" next to a documentation request: put its field into the what-if form.
  document.querySelectorAll("button[data-field]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!form) { return; }
      var input = firstEmpty();
      input.value = button.getAttribute("data-field");
      var value = input.closest(".edit-row").querySelector("input[name=value]");
      value.focus();
    });
  });
})();
