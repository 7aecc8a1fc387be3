/* The reviewer's scoring form (grants/admin/review.html): the total as the points are
   typed (the page shows the saved total without JavaScript), a confirmation before 提交评分,
   and a warning before leaving with unsaved changes. */
(function () {
  "use strict";
  var form = document.querySelector("[data-review-form]");
  if (!form) return;
  var out = form.querySelector("[data-total]");
  var inputs = Array.prototype.slice.call(form.querySelectorAll("input[data-score]"));
  var dirty = false;

  function total() {
    var tenths = 0;
    inputs.forEach(function (el) {
      var text = el.value.trim();
      if (!text) return;
      var n = Number(text);
      var max = Number(el.getAttribute("max"));
      if (!isFinite(n) || n < 0 || n > max) return; // the server says why; it does not count
      tenths += Math.round(n * 10);
    });
    if (out) out.textContent = (tenths / 10).toFixed(1);
  }

  form.addEventListener("input", function () {
    dirty = true;
    total();
  });
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    dirty = false;
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  total();
})();
