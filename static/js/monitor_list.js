// The monitors list: "select all on this page" ticks or clears every monitor's checkbox.
document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("choose-all");
  if (!all) return;
  const boxes = () => document.querySelectorAll('#bulk input[type="checkbox"][name="monitor"]');
  all.addEventListener("change", () => {
    boxes().forEach((box) => { box.checked = all.checked; });
  });
  document.getElementById("bulk").addEventListener("change", (event) => {
    if (event.target === all) return;
    const list = Array.from(boxes());
    all.checked = list.length > 0 && list.every((box) => box.checked);
    all.indeterminate = !all.checked && list.some((box) => box.checked);
  });
});
