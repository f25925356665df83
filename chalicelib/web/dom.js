// Build DOM nodes without HTML strings: text from the API is never parsed as markup.

let nextId = 0;

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "value") el.value = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// A labelled form control: <label for=id>text</label><input id=id ...>.
export function field(label, control, hint) {
  const id = control.id || `f${++nextId}`;
  control.id = id;
  const parts = [h("label", { for: id }, label), control];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(h("small", { id: hintId, class: "hint" }, hint));
  }
  return h("div", { class: "field" }, parts);
}

// An amount as the API spells it ("34.00", exact: never turned into a float) with its currency.
export function money(amount, currency) {
  if (amount === null || amount === undefined) return "—";
  return currency ? `${amount} ${currency}` : String(amount);
}

// An address on one line, as it was typed: name, street, city, region, postal code, country.
export function addressLine(address) {
  return [address.name, address.line1, address.line2, address.city, address.region, address.postalCode, address.country]
    .filter(Boolean).join(", ");
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

// An error as the API words it: its message and its code.
export function errorBox(error) {
  const details = [];
  if (error.body?.field) details.push(`field: ${error.body.field}`);
  if (error.body?.productIds?.length) details.push(`products: ${error.body.productIds.join(", ")}`);
  return h(
    "div",
    { class: "error", role: "alert" },
    h("strong", {}, error.message),
    " ",
    h("code", { class: "code" }, error.code),
    details.length ? h("span", { class: "details" }, ` (${details.join("; ")})`) : null,
  );
}

export function statusBadge(status) {
  return h("span", { class: `badge badge-${status.toLowerCase()}` }, status);
}
