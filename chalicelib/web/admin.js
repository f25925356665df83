// The admin view: products (create, edit, delete), the fulfilment queue, the users list,
// discount codes (create, retire) and the audit trail.
import { api, ApiError, newIdempotencyKey, query, session } from "./api.js";
import { addressLine, errorBox, field, h, money, statusBadge, when } from "./dom.js";

const PAGE_SIZE = 50;
const QUEUE_STATUSES = [
  "CONFIRMED", "SHIPPED", "PENDING", "DELIVERED", "RETURN_REQUESTED", "RETURN_APPROVED", "RETURNED", "CANCELLED",
];
const NEXT_STEP = {
  CONFIRMED: ["ship", "Ship"], SHIPPED: ["deliver", "Mark delivered"], RETURN_APPROVED: ["returns/receive", "Mark return received"],
};
// Statuses of a paid order: staff may refund it (docs/api.md#refunds).
const REFUNDABLE = new Set(["CONFIRMED", "SHIPPED", "DELIVERED", "RETURN_REQUESTED", "RETURN_APPROVED", "RETURNED"]);
const REFUND_REASONS = ["customer_request", "damaged", "not_received", "wrong_item", "other"];

function failure(error) {
  if (error instanceof ApiError) return errorBox(error);
  throw error;
}

function adminOnly(title) {
  const user = session.get();
  if (user && user.role === "admin") return null;
  return h("section", {}, h("h1", {}, title),
    h("p", {}, user ? "This page is for admins." : h("a", { href: "#/signin" }, "Sign in as an admin first.")));
}

// A paged list: rows drawn by `row`, a "More" button while the API gives a nextCursor.
function pagedTable(headers, path, params, row, status, caption) {
  const tbody = h("tbody");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "More");
  let cursor = null;
  let generation = 0; // an answer to a superseded load (filter changed meanwhile) is dropped
  async function load(reset) {
    const mine = reset ? ++generation : generation;
    if (reset) cursor = null;
    try {
      const answer = await api("GET", `${path}${query({ ...params(), limit: PAGE_SIZE, cursor })}`);
      if (mine !== generation) return;
      if (reset) tbody.replaceChildren();
      tbody.append(...answer.items.map(row));
      if (!tbody.children.length) tbody.append(h("tr", {}, h("td", { colspan: headers.length, class: "empty" }, "Nothing here.")));
      cursor = answer.nextCursor;
      more.hidden = !cursor;
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  }
  more.addEventListener("click", () => load(false));
  const table = h("table", {}, h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))), tbody);
  return { element: h("div", {}, table, more), load };
}

export async function products(page) {
  const denied = adminOnly("Products");
  if (denied) return denied;
  const status = h("div");
  let editing = null; // the product being edited, or null when creating

  const name = h("input", { type: "text", required: true, maxlength: 200 });
  const category = h("input", { type: "text", pattern: "[a-z0-9][a-z0-9\\-]{0,39}", value: "general", maxlength: 40 });
  // Text, sent as typed: the API takes amounts as decimal strings ("19.99") and says what is wrong.
  const price = h("input", { type: "text", inputmode: "decimal", required: true, maxlength: 16 });
  const stock = h("input", { type: "number", min: 0, step: 1, value: 0 });
  const description = h("textarea", { rows: 3, maxlength: 2000 });
  const legend = h("legend", {}, "New product");
  const submit = h("button", { type: "submit" }, "Create product");
  const cancelEdit = h("button", { type: "button", class: "secondary", hidden: true, onclick: () => edit(null) }, "Cancel editing");

  function edit(product) {
    editing = product;
    legend.textContent = product ? `Edit ${product.name}` : "New product";
    submit.textContent = product ? "Save changes" : "Create product";
    cancelEdit.hidden = !product;
    name.value = product ? product.name : "";
    category.value = product ? product.category : "general";
    price.value = product ? product.price : "";
    stock.value = product ? product.stock : 0;
    description.value = product ? product.description || "" : "";
    if (product) name.focus();
  }

  const form = h("form", { class: "stack card-form", onsubmit: async (event) => {
    event.preventDefault();
    status.replaceChildren();
    const payload = { name: name.value, category: category.value.trim() || "general", price: price.value.trim(), stock: Number(stock.value) };
    if (description.value) payload.description = description.value;
    try {
      const saved = editing
        ? await api("PUT", `/products/${encodeURIComponent(editing.productId)}`, payload)
        : await api("POST", "/products", payload);
      page.notify(`${editing ? "Saved" : "Created"} ${saved.name}.`);
      edit(null);
      await table.load(true);
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  } }, h("fieldset", {}, legend,
    h("div", { class: "row" }, field("Name", name), field("Category", category, "Lowercase letters, digits, dashes.")),
    h("div", { class: "row" }, field("Price", price), field("Stock", stock)),
    field("Description", description),
    h("div", { class: "actions" }, submit, cancelEdit)));

  async function remove(product) {
    if (!window.confirm(`Delete ${product.name}?`)) return;
    status.replaceChildren();
    try {
      await api("DELETE", `/products/${encodeURIComponent(product.productId)}`);
      page.notify(`Deleted ${product.name}.`);
      await table.load(true);
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  }

  const table = pagedTable(["Name", "Category", "Price", "Stock", ""], "/products", () => ({}), (product) =>
    h("tr", {},
      h("th", { scope: "row" }, product.name),
      h("td", {}, product.category),
      h("td", { class: "num" }, money(product.price, product.currency)),
      h("td", { class: "num" }, product.stock),
      h("td", { class: "actions" },
        h("button", { type: "button", class: "secondary", "aria-label": `Edit ${product.name}`, onclick: () => edit(product) }, "Edit"),
        h("button", { type: "button", class: "danger", "aria-label": `Delete ${product.name}`, onclick: () => remove(product) }, "Delete"))),
  status, "Products");
  await table.load(true);
  return h("section", {}, h("h1", {}, "Products"), form, status, table.element);
}

export async function fulfilment(page) {
  const denied = adminOnly("Fulfilment");
  if (denied) return denied;
  const status = h("div");
  const choice = h("select", { onchange: () => table.load(true) },
    QUEUE_STATUSES.map((s) => h("option", { value: s }, s)));

  async function advance(order, action, parcel) {
    status.replaceChildren();
    try {
      const updated = await api("POST", `/orders/${encodeURIComponent(order.orderId)}/${action}`, parcel);
      page.notify(`Order ${order.orderId.slice(0, 8)} is now ${updated.status}.`);
      await table.load(true);
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  }

  async function post(order, path, body, options) {
    status.replaceChildren();
    try {
      const updated = await api("POST", `/orders/${encodeURIComponent(order.orderId)}/${path}`, body, options);
      return updated;
    } catch (error) {
      status.replaceChildren(failure(error));
      return null;
    }
  }

  // The requested return: restock or not per line, then approve; or reject with a reason.
  function returnDecision(order) {
    const short = order.orderId.slice(0, 8);
    const open = (order.returns || []).at(-1);
    if (!open) return null;
    const nameOf = (id) => order.items.find((line) => line.productId === id)?.name ?? id;
    const restock = open.lines.map((line) => [line, h("input", { type: "checkbox", checked: true })]);
    const reason = h("input", { type: "text", maxlength: 500 });
    const approve = async () => {
      const lines = restock.map(([line, box]) => ({ productId: line.productId, restock: box.checked }));
      if (await post(order, "returns/approve", { lines })) {
        page.notify(`Return of order ${short} approved.`);
        await table.load(true);
      }
    };
    const reject = async () => {
      if (await post(order, "returns/reject", { reason: reason.value.trim() })) {
        page.notify(`Return of order ${short} rejected.`);
        await table.load(true);
      }
    };
    return h("fieldset", { class: "return-decision" }, h("legend", {}, `Return of order ${short}`),
      open.reason ? h("p", { class: "meta" }, `Buyer: ${open.reason}`) : null,
      restock.map(([line, box]) => h("label", { class: "check" }, box, ` Restock ${line.quantity} × ${nameOf(line.productId)}`)),
      h("div", { class: "actions" }, h("button", { type: "button", onclick: approve }, "Approve return")),
      field("Reason to reject", reason),
      h("div", { class: "actions" }, h("button", { type: "button", class: "danger", onclick: reject }, "Reject return")));
  }

  // A refund of a paid order: amount and reason; its key is kept until it went through, so a
  // second click (or a retry after a busy answer) is the same refund.
  function refundForm(order) {
    const short = order.orderId.slice(0, 8);
    const amount = h("input", { type: "text", inputmode: "decimal", pattern: "[0-9]+(\\.[0-9]{1,2})?", required: true, size: 8 });
    const reason = h("select", {}, REFUND_REASONS.map((r) => h("option", { value: r }, r.replace("_", " "))));
    let key = newIdempotencyKey();
    const form = h("form", { class: "inline refund-form", "aria-label": `Refund order ${short}`, onsubmit: async (event) => {
      event.preventDefault();
      const updated = await post(order, "refunds", { amount: amount.value.trim(), reason: reason.value }, { idempotencyKey: key });
      if (updated) {
        key = newIdempotencyKey();
        page.notify(`Refunded ${amount.value.trim()} of order ${short}; ${updated.amountRefunded} refunded in all.`);
        await table.load(true);
      }
    } }, field("Refund amount", amount), field("Reason", reason), h("button", { type: "submit", class: "secondary" }, "Refund"));
    return h("details", {}, h("summary", {}, `Refund${order.amountRefunded ? ` (${order.amountRefunded} so far)` : ""}`), form);
  }

  // The ship step takes the carrier and tracking number (both optional).
  function shipForm(order, label) {
    const short = order.orderId.slice(0, 8);
    const carrier = h("input", { name: "carrier", maxlength: 50, "aria-label": `Carrier of order ${short}` });
    const tracking = h("input", { name: "trackingNumber", maxlength: 100, "aria-label": `Tracking number of order ${short}` });
    const form = h("form", { class: "ship-form" }, carrier, tracking,
      h("button", { type: "submit", "aria-label": `${label} order ${short}` }, label));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const parcel = {};
      if (carrier.value.trim()) parcel.carrier = carrier.value.trim();
      if (tracking.value.trim()) parcel.trackingNumber = tracking.value.trim();
      advance(order, "ship", parcel);
    });
    return form;
  }

  const table = pagedTable(["Order", "Placed", "Items", "Total", "Ship to", "Status", ""], "/orders", () => ({ status: choice.value }), (order) => {
    const step = NEXT_STEP[order.status];
    let action = null;
    if (step && step[0] === "ship") action = shipForm(order, step[1]);
    else if (step) action = h("button", { type: "button", "aria-label": `${step[1]} order ${order.orderId.slice(0, 8)}`,
      onclick: () => advance(order, step[0]) }, step[1]);
    return h("tr", { "data-order-id": order.orderId },
      h("th", { scope: "row" }, h("code", {}, order.orderId.slice(0, 8))),
      h("td", {}, when(order.createdAt)),
      h("td", {}, order.items.map((line) => `${line.quantity} × ${line.name}`).join(", ")),
      h("td", { class: "num" }, money(order.total, order.currency)),
      h("td", { class: "ship-to" }, order.shippingAddress ? addressLine(order.shippingAddress) : "—",
        order.shippingMethod ? h("small", { class: "meta" }, ` (${order.shippingMethod.name})`) : null,
        order.fulfilment ? h("small", { class: "meta" }, ` ${order.fulfilment.carrier ?? ""} ${order.fulfilment.trackingNumber ?? ""}`) : null),
      h("td", {}, statusBadge(order.status)),
      h("td", {}, action,
        order.status === "RETURN_REQUESTED" ? returnDecision(order) : null,
        REFUNDABLE.has(order.status) ? refundForm(order) : null));
  }, status, "Orders in the queue");
  await table.load(true);
  return h("section", {}, h("h1", {}, "Fulfilment"),
    h("div", { class: "inline" }, field("Orders with status", choice),
      h("button", { type: "button", class: "secondary", onclick: () => table.load(true) }, "Refresh")),
    status, table.element);
}

export async function users(page) {
  const denied = adminOnly("Users");
  if (denied) return denied;
  const status = h("div");
  const table = pagedTable(["Name", "Email", "Role", "Since"], "/users", () => ({}), (user) =>
    h("tr", {}, h("th", { scope: "row" }, user.name), h("td", {}, user.email), h("td", {}, user.role), h("td", {}, when(user.createdAt))),
  status, "Users");
  await table.load(true);
  return h("section", {}, h("h1", {}, "Users"), status, table.element);
}

// Discount codes: create one (percent or amount off, an optional limit), list them, retire one.
export async function discounts(page) {
  const denied = adminOnly("Discount codes");
  if (denied) return denied;
  const status = h("div");
  const code = h("input", { type: "text", required: true, maxlength: 32, pattern: "[A-Za-z0-9][A-Za-z0-9_\\-]{2,31}" });
  const kind = h("select", {}, h("option", { value: "percentOff" }, "percent off"), h("option", { value: "amountOff" }, "amount off"));
  const value = h("input", { type: "number", min: 0.01, step: "0.01", required: true });
  const limit = h("input", { type: "number", min: 1, step: 1 });
  const once = h("input", { type: "checkbox" });

  const form = h("form", { class: "stack card-form", onsubmit: async (event) => {
    event.preventDefault();
    status.replaceChildren();
    const payload = { code: code.value.trim(), oncePerCustomer: once.checked };
    payload[kind.value] = kind.value === "percentOff" ? Number(value.value) : String(value.value);
    if (limit.value) payload.maxRedemptions = Number(limit.value);
    try {
      const saved = await api("POST", "/discounts", payload);
      page.notify(`Created ${saved.code}.`);
      form.reset();
      await table.load(true);
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  } }, h("fieldset", {}, h("legend", {}, "New discount code"),
    h("div", { class: "row" }, field("Code", code, "3-32 letters, digits, - or _."), field("Kind", kind), field("Value", value)),
    h("div", { class: "row" }, field("Uses in total", limit, "Empty: no limit."), field("Once per customer", once)),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create code"))));

  async function retire(discount) {
    status.replaceChildren();
    try {
      await api("POST", `/discounts/${encodeURIComponent(discount.code)}/retire`);
      page.notify(`Retired ${discount.code}.`);
      await table.load(true);
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  }

  const table = pagedTable(["Code", "Discount", "Used", "Status", ""], "/discounts", () => ({}), (discount) =>
    h("tr", { "data-code": discount.code },
      h("th", { scope: "row" }, h("code", {}, discount.code)),
      h("td", {}, discount.percentOff ? `${discount.percentOff} %` : money(discount.amountOff)),
      h("td", { class: "num" }, discount.maxRedemptions ? `${discount.redemptions} / ${discount.maxRedemptions}` : `${discount.redemptions}`),
      h("td", {}, discount.retired ? "retired" : "active"),
      h("td", {}, discount.retired ? null : h("button", { type: "button", class: "danger", "aria-label": `Retire ${discount.code}`,
        onclick: () => retire(discount) }, "Retire"))),
  status, "Discount codes");
  await table.load(true);
  return h("section", {}, h("h1", {}, "Discount codes"), form, status, table.element);
}

// The audit trail, newest first, optionally of one entity type.
export async function audit(page) {
  const denied = adminOnly("Audit trail");
  if (denied) return denied;
  const status = h("div");
  const entity = h("select", { onchange: () => table.load(true) },
    [["", "everything"], ["product", "products"], ["discount", "discount codes"], ["user", "users"], ["order", "orders"]]
      .map(([v, text]) => h("option", { value: v }, text)));
  const changes = (fields) => (fields ? Object.entries(fields).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ") : "—");
  const table = pagedTable(["When", "Who", "Action", "Entity", "Before", "After"], "/audit",
    () => (entity.value ? { entity: entity.value } : {}), (entry) =>
      h("tr", {},
        h("td", {}, when(entry.at)),
        h("td", {}, h("code", {}, entry.actor.slice(0, 8))),
        h("th", { scope: "row" }, entry.action),
        h("td", {}, `${entry.entity} `, h("code", {}, entry.entityId.slice(0, 12))),
        h("td", {}, changes(entry.before)),
        h("td", {}, changes(entry.after))),
  status, "Audit entries, newest first");
  await table.load(true);
  return h("section", {}, h("h1", {}, "Audit trail"),
    h("div", { class: "inline" }, field("Entries about", entity)), status, table.element);
}
