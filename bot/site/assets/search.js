// The exported site's search: the Pagefind index of the transcript pages, read in the
// browser. Results are built with DOM text nodes only: participants' words never become
// markup. Each hit links to the message's anchor (m<id>) in its transcript page.
const root = document.querySelector("[data-static-search]");
const PER_PAGE = 20;
const fold = (s) => s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();

function last(anchors, location, test) {
  let found = null;
  for (const a of anchors) {
    if (a.location > location) break;
    if (test(a)) found = a;
  }
  return found;
}

// A message's words begin with its author's name, then " · " and its time.
function authorAt(words, anchor) {
  const name = [];
  for (let i = anchor.location; i < words.length && words[i] !== "·" && name.length < 20; i++) {
    name.push(words[i]);
  }
  return name.join(" ");
}

function excerpt(words, start, end, hits) {
  const p = document.createElement("p");
  p.className = "hit";
  const from = Math.max(start, Math.min(...hits) - 12);
  const to = Math.min(end, from + 40);
  for (let i = from; i < to; i++) {
    const word = (i > from ? " " : "") + words[i];
    if (hits.includes(i)) {
      if (i > from) p.append(" ");
      const mark = document.createElement("mark");
      mark.textContent = words[i];
      p.append(mark);
    } else {
      p.append(word);
    }
  }
  if (to < end) p.append(" …");
  return p;
}

async function hitsOf(result, want) {
  const data = await result.data();
  const day = (data.meta && data.meta.date) || "";
  if (want.chat && day !== want.chat) return [];
  if (want.from && day.slice(0, 10) < want.from) return [];
  if (want.to && day.slice(0, 10) > want.to) return [];
  const words = data.content.split(/\s+/);
  const anchors = [...(data.anchors || [])].sort((a, b) => a.location - b.location);
  const groups = new Map();
  for (const location of data.locations) {
    const message = last(anchors, location, (a) => a.element === "li" && /^m\d+$/.test(a.id));
    const section = last(anchors, location, (a) => a.element === "section");
    if (!section || !/^q\d+$|^general$/.test(section.id)) continue;
    const inMessage = message && message.location >= section.location ? message : null;
    if (want.question && section.id !== "q" + want.question) continue;
    if (want.author && !(inMessage && fold(authorAt(words, inMessage)).includes(want.author))) continue;
    const key = inMessage ? inMessage.id : section.id;
    if (!groups.has(key)) groups.set(key, { anchor: inMessage || section, section, hits: [] });
    groups.get(key).hits.push(location);
  }
  return [...groups.entries()].map(([key, g]) => {
    const next = anchors.find((a) => a.location > g.anchor.location && a.element !== "h2");
    return {
      url: data.url.replace(/^\//, "") + "#" + key,
      chat: (data.meta && data.meta.chat) || data.url,
      day,
      question: /^q\d+$/.test(g.section.id) ? "Q" + g.section.id.slice(1) : "",
      words,
      start: g.anchor.location,
      end: next ? next.location : words.length,
      hits: g.hits,
    };
  });
}

function show(hit, site) {
  const li = document.createElement("li");
  const where = document.createElement("p");
  where.className = "where";
  const link = document.createElement("a");
  link.href = site + hit.url;
  link.textContent = hit.chat;
  where.append(link, " · " + hit.day + (hit.question ? " · " + hit.question : ""));
  li.append(where, excerpt(hit.words, hit.start, hit.end, hit.hits));
  return li;
}

async function run() {
  const params = new URLSearchParams(location.search);
  const form = document.querySelector("form.search");
  for (const [name, value] of params) {
    const field = form && form.elements.namedItem(name);
    if (field && "value" in field) field.value = value;
  }
  const q = (params.get("q") || "").trim();
  if (!q) return;
  const want = {
    chat: params.get("chat") || "",
    question: (params.get("question") || "").replace(/^q/i, ""),
    author: fold((params.get("author") || "").trim()),
    from: params.get("from") || "",
    to: params.get("to") || "",
  };
  const status = document.createElement("p");
  root.append(status);
  let pagefind;
  try {
    pagefind = await import(new URL(root.dataset.bundle + "pagefind.js", location.href).href);
  } catch (error) {
    status.textContent = root.dataset.unavailable;
    return;
  }
  const search = await pagefind.search(q);
  const hits = [];
  for (const result of search.results.slice(0, 200)) {
    hits.push(...(await hitsOf(result, want)));
  }
  if (!hits.length) {
    status.textContent = root.dataset.none;
    return;
  }
  const page = Math.max(1, parseInt(params.get("page") || "1", 10) || 1);
  const list = document.createElement("ol");
  list.className = "hits";
  for (const hit of hits.slice((page - 1) * PER_PAGE, page * PER_PAGE)) list.append(show(hit, root.dataset.root));
  status.remove();
  root.append(list);
  if (hits.length > page * PER_PAGE) {
    const more = document.createElement("a");
    more.rel = "next";
    params.set("page", String(page + 1));
    more.href = "?" + params.toString();
    more.textContent = root.dataset.more;
    const nav = document.createElement("nav");
    nav.className = "pages";
    nav.append(more);
    root.append(nav);
  }
}

if (root) run();
