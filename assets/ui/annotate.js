// Keyboard shortcuts of the Annotate tab (workbench/ui/annotate_tab.py lists them in the panel).
// J/K move between cards, 1-5 rate the focused card, L/D/N like/dislike/haven't-seen it,
// Enter submits, S skips, B goes back, Esc leaves a text field. Keys do nothing while typing.
(() => {
  let focused = 0;
  const visible = (el) => el && el.offsetParent !== null;
  // Gradio puts a group's id and classes on two nested elements: keep the outer one of each card.
  const CARD = "[id^=\"wb-ann-card-\"]";
  const cards = () => [...document.querySelectorAll(`#wb-ann-cards ${CARD}`)]
    .filter((c) => visible(c) && !c.parentElement.closest(CARD));
  const mark = (i) => {
    const cs = cards();
    focused = cs.length ? Math.max(0, Math.min(i, cs.length - 1)) : 0;
    cs.forEach((c, j) => c.classList.toggle("wb-focused", j === focused));
    if (cs[focused]) cs[focused].scrollIntoView({ block: "nearest" });
  };
  const choose = (kind, value) => {
    const card = cards()[focused];
    const input = card && card.querySelector(`.wb-ann-${kind} input[value="${value}"]`);
    if (input) { mark(focused); input.click(); }
  };
  const press = (id) => { const b = document.getElementById(id); if (visible(b) && !b.disabled) b.click(); };
  const typing = (t) => t && (t.isContentEditable || t.tagName === "TEXTAREA" || t.tagName === "SELECT"
    || (t.tagName === "INPUT" && !["radio", "checkbox", "button"].includes(t.type)));
  document.addEventListener("click", (e) => {
    const card = e.target.closest && e.target.closest(CARD);
    const i = card ? cards().findIndex((c) => c === card || c.contains(card)) : -1;
    if (i >= 0) mark(i);
  }, true);
  document.addEventListener("keydown", (e) => {
    if (!visible(document.getElementById("wb-ann-cards"))) return;
    if (e.key === "Escape" && typing(e.target)) { e.target.blur(); return; }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    const key = e.key.toLowerCase();
    let done = true;
    if (key === "j") mark(focused + 1);
    else if (key === "k") mark(focused - 1);
    else if ("12345".includes(key) && key.length === 1) choose("rating", key);
    else if (key === "l") choose("verdict", "like");
    else if (key === "d") choose("verdict", "dislike");
    else if (key === "n") choose("verdict", "not_seen");
    else if (key === "enter" && e.target.tagName !== "BUTTON") { press("wb-ann-submit"); focused = 0; }
    else if (key === "s") { press("wb-ann-skip"); focused = 0; }
    else if (key === "b") { press("wb-ann-back"); focused = 0; }
    else done = false;
    if (done) e.preventDefault();
  });
})();
