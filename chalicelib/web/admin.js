// The admin view: products (create, edit, delete), the fulfilment queue, the users list.
import { api, ApiError, newIdempotencyKey, query, session } from "./api.js";
import { errorBox, field, h, money, statusBadge, when } from "./dom.js";

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

  async function advance(order, action) {
    status.replaceChildren();
    try {
      const updated = await api("POST", `/orders/${encodeURIComponent(order.orderId)}/${action}`);
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

  const table = pagedTable(["Order", "Placed", "Items", "Total", "Status", ""], "/orders", () => ({ status: choice.value }), (order) => {
    const step = NEXT_STEP[order.status];
    return h("tr", { "data-order-id": order.orderId },
      h("th", { scope: "row" }, h("code", {}, order.orderId.slice(0, 8))),
      h("td", {}, when(order.createdAt)),
      h("td", {}, order.items.map((line) => `${line.quantity} × ${line.name}`).join(", ")),
      h("td", { class: "num" }, money(order.total, order.currency)),
      h("td", {}, statusBadge(order.status)),
      h("td", {}, step ? h("button", { type: "button", "aria-label": `${step[1]} order ${order.orderId.slice(0, 8)}`,
        onclick: () => advance(order, step[0]) }, step[1]) : null,
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
