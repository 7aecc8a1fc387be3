// Tables of rows in the call form (grants.forms.calls.RowsWidget): "添加一行" adds a blank
// row, and the sum of the weights (or percentages) follows what is typed and ticked.
(function () {
  function sum(box) {
    var column = box.dataset.rowsSumColumn;
    var out = box.querySelector("[data-rows-sum]");
    if (!column || !out) return;
    var total = 0;
    box.querySelectorAll("[data-rows-body] [data-rows-row]").forEach(function (row) {
      var del = row.querySelector('input[type="checkbox"]');
      var cell = row.querySelector('[name$="-' + column + '"]');
      if (!cell || (del && del.checked)) return;
      var v = parseFloat((cell.value || "").trim());
      if (!isNaN(v)) total += Math.round(v * 100);
    });
    total = total / 100;
    out.textContent = String(total);
    var off = box.querySelector("[data-rows-sum-off]");
    if (off) off.hidden = total === parseFloat(box.dataset.rowsSumTarget);
  }

  function add(box) {
    var count = box.querySelector("[data-rows-count]");
    var template = box.querySelector("[data-rows-template]");
    var index = parseInt(count.value, 10) || 0;
    var html = template.innerHTML.replace(/__i__/g, String(index));
    var body = box.querySelector("[data-rows-body]");
    body.insertAdjacentHTML("beforeend", html);
    var added = body.lastElementChild;
    added.querySelector("td").textContent = String(index + 1);
    count.value = String(index + 1);
    var first = added.querySelector("input[type=text], textarea, select");
    if (first) first.focus();
  }

  function init(box) {
    if (box.dataset.rowsReady) return;
    box.dataset.rowsReady = "1";
    box.addEventListener("input", function () { sum(box); });
    box.addEventListener("change", function () { sum(box); });
    var button = box.querySelector("[data-rows-add]");
    if (button) button.addEventListener("click", function () { add(box); sum(box); });
    sum(box);
  }

  function start() { document.querySelectorAll("[data-rows]").forEach(init); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
