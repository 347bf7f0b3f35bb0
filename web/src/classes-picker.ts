// `--classes` as controls: the model's class names listed once it is chosen, ticked (or typed
// as names or 0-based indices) into an ordered list, the output's class order, reordered with
// ↑/↓ buttons, Alt+↑/↓ on a focused entry, or by dragging. Everything is a button, a checkbox
// or a text field, so a keyboard reaches it all.
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export interface Picker {
  /** The model's names (null: none readable; `note` says why). Clears the picks. */
  setNames(names: string[] | null, note?: string): void;
  /** The picked classes as 0-based indices, in the output's order (empty: keep every class). */
  picked(): number[];
}

export function classesPicker(root: HTMLElement, onChange: () => void): Picker {
  let names: string[] = [];
  let picked: number[] = [];
  const $ = <T extends HTMLElement>(sel: string) => root.querySelector(sel) as T;
  const summary = $<HTMLElement>("[data-role=summary]"), list = $<HTMLElement>("[data-role=list]"), chosen = $<HTMLOListElement>("[data-role=chosen]");
  const filter = $<HTMLInputElement>("[data-role=filter]"), typed = $<HTMLInputElement>("[data-role=typed]"), msg = $<HTMLElement>("[data-role=msg]");

  function renderList(): void {
    list.innerHTML = names.map((n, i) => `<label class="cls"><input type="checkbox" data-index="${i}"${picked.includes(i) ? " checked" : ""}><span class="idx">${i}</span> ${esc(n)}</label>`).join("");
    applyFilter();
  }
  function applyFilter(): void {
    const q = filter.value.trim().toLowerCase();
    for (const el of list.children) (el as HTMLElement).hidden = q !== "" && !el.textContent!.toLowerCase().includes(q);
  }
  function renderChosen(focus?: { index: number; role: string }): void {
    chosen.innerHTML = picked.map((i, at) => `<li draggable="true" tabindex="0" data-index="${i}" aria-label="${esc(names[i])}, position ${at + 1} of ${picked.length}"><span class="idx">${i}</span> <span class="name">${esc(names[i])}</span>` +
      `<span class="moves"><button type="button" data-act="up" aria-label="Move ${esc(names[i])} up"${at === 0 ? " disabled" : ""}>↑</button>` +
      `<button type="button" data-act="down" aria-label="Move ${esc(names[i])} down"${at === picked.length - 1 ? " disabled" : ""}>↓</button>` +
      `<button type="button" data-act="remove" aria-label="Remove ${esc(names[i])}">✕</button></span></li>`).join("");
    summary.textContent = names.length
      ? `${names.length} classes in the model's names metadata. ${picked.length ? `Keeping ${picked.length}, in the order below (the new model's class order).` : "Tick classes (or type them) to keep only those; none ticked keeps every class."}`
      : summary.textContent;
    for (const box of list.querySelectorAll<HTMLInputElement>("input[type=checkbox]")) box.checked = picked.includes(Number(box.dataset.index));
    if (focus) {
      const li = chosen.querySelector<HTMLElement>(`li[data-index="${focus.index}"]`);
      const target = li?.querySelector<HTMLButtonElement>(`button[data-act=${focus.role}]:not(:disabled)`) ?? li;
      target?.focus();
    }
    onChange();
  }
  function move(index: number, by: number, role: string): void {
    const at = picked.indexOf(index), to = at + by;
    if (at < 0 || to < 0 || to >= picked.length) return;
    [picked[at], picked[to]] = [picked[to], picked[at]];
    renderChosen({ index, role });
  }

  list.addEventListener("change", (e) => {
    const box = e.target as HTMLInputElement;
    const i = Number(box.dataset.index);
    picked = box.checked ? [...picked.filter((p) => p !== i), i] : picked.filter((p) => p !== i);
    renderChosen();
  });
  filter.addEventListener("input", applyFilter);
  chosen.addEventListener("click", (e) => {
    const b = (e.target as HTMLElement).closest("button");
    if (!b) return;
    const i = Number(b.closest("li")!.dataset.index);
    if (b.dataset.act === "up") move(i, -1, "up");
    else if (b.dataset.act === "down") move(i, 1, "down");
    else { picked = picked.filter((p) => p !== i); renderChosen(); }
  });
  chosen.addEventListener("keydown", (e) => {
    const li = (e.target as HTMLElement).closest("li");
    if (!li || !e.altKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
    e.preventDefault();
    move(Number(li.dataset.index), e.key === "ArrowUp" ? -1 : 1, "none");
  });
  let dragged: number | null = null;
  chosen.addEventListener("dragstart", (e) => { dragged = Number((e.target as HTMLElement).closest("li")?.dataset.index); });
  chosen.addEventListener("dragover", (e) => e.preventDefault());
  chosen.addEventListener("drop", (e) => {
    if (dragged === null) return; // a file dropped here: the page's drop zone takes it
    e.preventDefault();
    e.stopPropagation();
    const over = (e.target as HTMLElement).closest("li");
    if (!over) { dragged = null; return; }
    const from = picked.indexOf(dragged), to = picked.indexOf(Number(over.dataset.index));
    picked.splice(from, 1);
    picked.splice(to, 0, dragged);
    dragged = null;
    renderChosen();
  });
  function addTyped(): void {
    const unknown: string[] = [];
    for (const raw of typed.value.split(/[,\n]/)) {
      const t = raw.trim();
      if (!t) continue;
      let i = /^\d+$/.test(t) ? Number(t) : names.indexOf(t);
      if (i < 0) i = names.findIndex((n) => n.toLowerCase() === t.toLowerCase());
      if (i < 0 || i >= names.length) { unknown.push(t); continue; }
      if (!picked.includes(i)) picked.push(i);
    }
    msg.textContent = unknown.length ? `Not among this model's ${names.length} classes: ${unknown.map((u) => `“${u}”`).join(", ")}. New classes go under “New class names”, with a text encoder.` : "";
    typed.value = unknown.join(", ");
    renderChosen();
  }
  $<HTMLButtonElement>("[data-role=add]").addEventListener("click", addTyped);
  typed.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); addTyped(); } });
  $<HTMLButtonElement>("[data-role=clear]").addEventListener("click", () => { picked = []; renderChosen(); });

  return {
    setNames(n, note) {
      names = n ?? [];
      picked = [];
      msg.textContent = "";
      root.querySelector<HTMLElement>("[data-role=pick]")!.hidden = !n;
      summary.textContent = n ? "" : `No class names to list: ${note ?? "the model declares none"}.`;
      renderList();
      renderChosen();
    },
    picked: () => [...picked],
  };
}
