// The layout detector of tests/browser/test_browser_layout.py, run in the page by Playwright.
// Given [selector of the controls, rows of a short table], it returns one line per offender:
// "kind | element path | text | measure".
([controls, shortRows]) => {
  const out = [];
  const skip = el => el.closest('pre, code, svg, canvas, [data-testid="stCode"], [data-testid="stPlotlyChart"]');
  const shown = el => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || el.closest('details:not([open])')) return false;
    return el.checkVisibility({visibilityProperty: true});
  };
  const path = el => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      const id = e.getAttribute('data-testid');
      parts.unshift(e.tagName.toLowerCase() + (id ? `[data-testid="${id}"]` : ''));
    }
    return parts.join(' > ');
  };
  const text = el => (el.tagName === 'INPUT' ? el.value : el.innerText || el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 80);
  const seen = new Set();
  for (const root of document.querySelectorAll(controls)) {
    if (skip(root) || !shown(root)) continue;
    for (const el of [root, ...root.querySelectorAll('*')]) {
      if (seen.has(el) || skip(el) || !shown(el)) continue;
      seen.add(el);
      const s = getComputedStyle(el);
      if (s.display.startsWith('inline') && s.display !== 'inline-block' && s.display !== 'inline-flex') continue;
      if (!text(el)) continue;
      // An element that scrolls on purpose (the sidebar's own scroll) is not clipped text.
      if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1
          && !['auto', 'scroll'].includes(s.overflowX) && el.clientWidth < 2000) {
        out.push(`clipped control | ${path(el)} | ${text(el)} | scroll ${el.scrollWidth} > client ${el.clientWidth}`);
        break;  // one line per control
      }
    }
  }
  // Tables drawn by the data grid (st.dataframe): the grid's columns, header and cells measured.
  for (const df of document.querySelectorAll('[data-testid="stDataFrame"]')) {
    if (!shown(df)) continue;
    const canvas = df.querySelector('canvas[data-testid="data-grid-canvas"]');
    const scroller = df.querySelector('.dvn-scroller');
    let header = Array.from(df.querySelectorAll('th[role="columnheader"]')).map(th => th.textContent.trim()).join(', ');
    if (!canvas || !scroller) { out.push(`table not drawn | ${path(df)} | ${header.slice(0, 60)} | no grid canvas`); continue; }
    // The column widths the grid drew with are the props of the canvas's React component.
    const key = Object.keys(canvas).find(k => k.startsWith('__reactFiber'));
    let fiber = key && canvas[key], columns = null;
    for (let depth = 0; fiber && depth < 30 && !columns; depth++, fiber = fiber.return) {
      const p = fiber.memoizedProps;
      if (p && Array.isArray(p.columns) && p.columns.length && typeof p.columns[0].width === 'number') columns = p.columns;
    }
    // the header as the grid has it (its accessibility table holds only the columns in view)
    if (columns) header = columns.map(c => c.title || '').filter(t => t).join(', ');
    header = header.slice(0, 60);
    if (scroller.scrollWidth > scroller.clientWidth + 1)
      out.push(`table wider than its box | ${path(df)} | ${header} | ${scroller.scrollWidth} > ${scroller.clientWidth} px`);
    const table = canvas.querySelector('table[role="grid"]');
    const rows = table ? Number(table.getAttribute('aria-rowcount')) - 1 : 0;
    if (rows <= shortRows && scroller.scrollHeight > scroller.clientHeight + 1)
      out.push(`short table in a scrolling box | ${path(df)} | ${header} | ${rows} rows, ${scroller.scrollHeight} > ${scroller.clientHeight} px`);
    if (!columns) { out.push(`table columns unknown | ${path(df)} | ${header} | the grid's column widths were not found`); continue; }
    const grid = df.querySelector('.stDataFrameGlideDataEditor');
    const css = getComputedStyle(grid);
    const family = css.getPropertyValue('--gdg-font-family');
    const pad = parseFloat(css.getPropertyValue('--gdg-cell-horizontal-padding')) || 8;
    const ctx = document.createElement('canvas').getContext('2d');
    const width = (font, t) => { ctx.font = `${font} ${family}`; return ctx.measureText(t).width; };
    const headFont = css.getPropertyValue('--gdg-header-font-style').trim() || '400 14px';
    const cellFont = css.getPropertyValue('--gdg-base-font-style').trim() || '400 14px';
    columns.forEach((col, i) => {
      const need = [[headFont, col.title || '']];
      if (table) for (const td of table.querySelectorAll(`td[aria-colindex="${i + 1}"]`)) need.push([cellFont, td.textContent]);
      for (const [font, t] of need) {
        const w = width(font, t) + 2 * pad;
        if (w > col.width + 2) {
          out.push(`column cut off | ${path(df)} | ${col.title}: ${t.slice(0, 60)} | needs ${Math.ceil(w)} px, has ${col.width}`);
          break;
        }
      }
    });
  }
  // HTML tables (st.table, Markdown tables): wider than their container, or a header cell
  // narrower than its text.
  for (const t of document.querySelectorAll('[data-testid="stMain"] table, [data-testid="stSidebar"] table')) {
    if (t.closest('canvas') || !shown(t)) continue;
    const box = t.parentElement;
    if (t.getBoundingClientRect().width > box.getBoundingClientRect().width + 1)
      out.push(`table wider than its box | ${path(t)} | ${text(t.querySelector('tr') || t)} | ${Math.ceil(t.getBoundingClientRect().width)} > ${Math.ceil(box.getBoundingClientRect().width)} px`);
    for (const cell of t.querySelectorAll('th, td'))
      if (cell.scrollWidth > cell.clientWidth + 1)
        out.push(`column cut off | ${path(cell)} | ${text(cell)} | scroll ${cell.scrollWidth} > client ${cell.clientWidth}`);
  }
  return out;
}
