// Measures a laid-out report: how wide the page and each table are, which cells'
// text runs out of them, and which words are split across lines. A word is a run of
// Latin letters, or, in headers and labels (kept whole by the style sheet), a run of
// CJK characters; text set as <code> (ids, hashes) may break and is left out.
() => {
  const out = { page: document.documentElement.scrollWidth, tables: [], overflowing: [], broken: [], whole: 0 };
  for (const t of document.querySelectorAll("table")) {
    out.tables.push([t.className, Math.ceil(t.getBoundingClientRect().right)]);
  }
  for (const cell of document.querySelectorAll("th, td")) {
    if (cell.scrollWidth > cell.clientWidth + 1) out.overflowing.push(cell.textContent.slice(0, 60));
    const short = cell.matches("th, td.label");
    const words = short ? /[A-Za-z][A-Za-z'’]*[A-Za-z]|[\u3400-\u9fff]{2,}/g : /[A-Za-z][A-Za-z'’]*[A-Za-z]/g;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest("code")) continue;
      for (const m of node.data.matchAll(words)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (lines.size > 1) out.broken.push(m[0]);
        else out.whole += 1;
      }
    }
  }
  return out;
}
