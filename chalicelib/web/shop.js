// The storefront: browse, search, product details, sign in, register, cart, checkout, orders.
import {
  api, ApiError, confirmPayment, newIdempotencyKey, query, session, signIn as apiSignIn, takesTestPayments, TEST_CARDS,
} from "./api.js";
import { addressLine, errorBox, field, h, money, statusBadge, when } from "./dom.js";

const PAGE_SIZE = 12;
const POLL_MS = 1500;
const AWAITING_PAYMENT = "AWAITING_PAYMENT";
const CANCELLABLE = new Set(["PENDING", AWAITING_PAYMENT, "CONFIRMED"]);

function failure(error) {
  if (error instanceof ApiError) return errorBox(error);
  throw error;
}

function needsSignIn(text) {
  return h("section", {}, h("h1", {}, text),
    h("p", {}, h("a", { href: "#/signin" }, "Sign in"), " or ", h("a", { href: "#/register" }, "register"), " first."));
}

// Add one unit of a product to the cart (the API sets a line's quantity: read, then set).
async function addToCart(page, product, quantity, status) {
  status.replaceChildren();
  try {
    const current = await api("GET", "/cart");
    const line = current.items.find((item) => item.productId === product.productId);
    const cart = await api("PUT", `/cart/items/${encodeURIComponent(product.productId)}`, {
      quantity: (line ? line.quantity : 0) + quantity,
    });
    page.setCart(cart);
    page.notify(`Added ${product.name} to your cart.`);
  } catch (error) {
    status.replaceChildren(failure(error));
  }
}

export async function catalogue(page) {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const filters = { category: params.get("category") || "", q: params.get("q") || "" };
  const grid = h("ul", { class: "grid", "aria-label": "Products" });
  const status = h("div");
  const more = h("button", { type: "button", hidden: true }, "More products");
  let cursor = null;

  async function load() {
    try {
      const answer = await api("GET", `/products${query({ ...filters, limit: PAGE_SIZE, cursor })}`);
      for (const product of answer.items) grid.append(card(page, product, status));
      cursor = answer.nextCursor;
      more.hidden = !cursor;
      if (!grid.children.length) {
        const filtered = filters.category || filters.q;
        grid.append(h("li", { class: "empty" }, filtered ? "No products match."
          : "No products yet: an admin adds them under “Admin: products” after signing in."));
      }
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  }
  more.addEventListener("click", load);

  let categories = [];
  try {
    categories = (await api("GET", "/categories")).items;
  } catch (error) {
    status.replaceChildren(failure(error));
  }
  const search = h("input", { type: "search", name: "q", value: filters.q, maxlength: 100, autocomplete: "off" });
  const form = h("form", { class: "search", role: "search", onsubmit: (event) => {
    event.preventDefault();
    page.go(`#/${query({ category: filters.category, q: search.value.trim() })}`);
  } }, field("Search by name", search), h("button", { type: "submit" }, "Search"));

  const categoryLink = (slug, text) => h("li", {}, h("a", {
    href: `#/${query({ category: slug, q: filters.q })}`,
    "aria-current": filters.category === slug ? "true" : false,
  }, text));
  const side = h("nav", { class: "categories", "aria-label": "Categories" }, h("h2", {}, "Categories"), h("ul", {},
    categoryLink("", "All products"),
    categories.map((c) => categoryLink(c.category, `${c.category} (${c.count})`))));

  await load();
  const title = filters.q || filters.category
    ? `Products${filters.category ? ` in ${filters.category}` : ""}${filters.q ? ` starting with “${filters.q}”` : ""}`
    : "Products";
  return h("div", { class: "shop" }, side, h("section", {}, h("h1", {}, title), form, status, grid, more));
}

function card(page, product, status) {
  const buy = session.get()
    ? h("button", { type: "button", disabled: product.stock < 1,
      "aria-label": `Add ${product.name} to cart`, onclick: () => addToCart(page, product, 1, status) }, "Add to cart")
    : h("a", { href: "#/signin", class: "button secondary" }, "Sign in to buy");
  return h("li", { class: "card" },
    h("h3", {}, h("a", { href: `#/product/${encodeURIComponent(product.productId)}` }, product.name)),
    h("p", { class: "meta" }, h("span", { class: "tag" }, product.category), " ", stockText(product.stock)),
    h("p", { class: "price" }, money(product.price, product.currency)),
    buy);
}

function stockText(stock) {
  return h("span", { class: stock > 0 ? "stock" : "stock out" }, stock > 0 ? `${stock} in stock` : "Out of stock");
}

export async function product(page, token, productId) {
  let item;
  try {
    item = await api("GET", `/products/${encodeURIComponent(productId)}`);
  } catch (error) {
    return h("section", {}, h("h1", {}, "Product"), failure(error));
  }
  const status = h("div");
  const quantity = h("input", { type: "number", min: 1, max: Math.max(1, Math.min(1000, item.stock)), value: 1, required: true });
  const buy = session.get()
    ? h("form", { class: "inline", onsubmit: (event) => {
      event.preventDefault();
      addToCart(page, item, Number(quantity.value), status);
    } }, field("Quantity", quantity), h("button", { type: "submit", disabled: item.stock < 1 }, "Add to cart"))
    : h("p", {}, h("a", { href: "#/signin" }, "Sign in"), " to buy.");
  return h("article", { class: "detail" },
    h("p", {}, h("a", { href: "#/" }, "← All products")),
    h("h1", {}, item.name),
    h("p", { class: "meta" }, h("span", { class: "tag" }, item.category), " ", stockText(item.stock)),
    h("p", { class: "price big" }, money(item.price, item.currency)),
    item.description ? h("p", { class: "description" }, item.description) : null,
    buy, status);
}

export async function signIn(page) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const status = h("div");
  const form = h("form", { class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    status.replaceChildren();
    const from = location.hash; // a link followed meanwhile wins over the landing view
    try {
      const user = await apiSignIn(email.value.trim(), password.value);
      page.setCart(await api("GET", "/cart"));
      page.notify(`Welcome, ${user.name}.`);
      if (location.hash === from) page.go(user.role === "admin" ? "#/admin" : "#/");
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  } }, field("Email", email), field("Password", password), h("button", { type: "submit" }, "Sign in"), status);
  return h("section", { class: "narrow" }, h("h1", {}, "Sign in"), form,
    h("p", {}, "New here? ", h("a", { href: "#/register" }, "Create an account"), "."),
    h("p", {}, h("a", { href: "#/forgot-password" }, "Forgot your password?")));
}

export async function register(page) {
  const name = h("input", { type: "text", name: "name", autocomplete: "name", required: true, maxlength: 100 });
  const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const status = h("div");
  const form = h("form", { class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    status.replaceChildren();
    const from = location.hash; // a link followed meanwhile wins over the landing view
    try {
      await api("POST", "/users/register", { name: name.value, email: email.value.trim(), password: password.value });
      await apiSignIn(email.value.trim(), password.value);
      page.setCart(await api("GET", "/cart"));
      page.notify(`Welcome, ${name.value}. Your account is ready: confirm your email address with the link we sent.`);
      if (location.hash === from) page.go("#/");
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  } }, field("Name", name), field("Email", email), field("Password", password, "At least 8 characters."),
  h("button", { type: "submit" }, "Register"), status);
  return h("section", { class: "narrow" }, h("h1", {}, "Register"), form,
    h("p", {}, "Have an account? ", h("a", { href: "#/signin" }, "Sign in"), "."));
}

// The order's discount: its totals' when the API gives them, else the sum of its lines'.
function discountOf(order) {
  return order.totals.discount; // the server's exact amount, never summed here
}

// Where the cart ships: the book's default address, or one typed in; the method from
// /shipping/options; the breakdown the API prices for them (GET /cart?country=...).
const ADDRESS_FIELDS = [
  ["name", "Full name", true], ["line1", "Address line 1", true], ["line2", "Address line 2", false],
  ["city", "City", true], ["region", "State / province", false], ["postalCode", "Postal code", false],
  ["country", "Country (2 letters)", true],
];

function deliveryForm(onChange) {
  const inputs = {};
  const typed = h("div", { class: "address" }, ADDRESS_FIELDS.map(([name, label, required]) => {
    inputs[name] = h("input", { name, autocomplete: name === "country" ? "country" : "on", required,
      maxlength: name === "country" ? 2 : 200, value: name === "country" ? "US" : "" });
    inputs[name].addEventListener("change", onChange);
    return field(label, inputs[name]);
  }));
  const useDefault = h("input", { type: "radio", name: "ship-to", value: "default", checked: true });
  const useTyped = h("input", { type: "radio", name: "ship-to", value: "typed" });
  const choice = h("div", { class: "ship-to" },
    h("label", {}, useDefault, " My default address"), h("label", {}, useTyped, " Another address"));
  for (const radio of [useDefault, useTyped]) radio.addEventListener("change", onChange);
  const method = h("select", { name: "shippingMethod" });
  method.addEventListener("change", () => onChange({ keepMethod: true }));
  const breakdown = h("table", { class: "breakdown" }, h("caption", { class: "sr-only" }, "Order total"));
  const element = h("fieldset", { class: "delivery" }, h("legend", {}, "Delivery"), choice, typed,
    field("Shipping", method), breakdown);
  return {
    element,
    // hasDefault: the buyer's book has a default address (the cart was priced for it).
    show(hasDefault) {
      choice.hidden = !hasDefault;
      if (!hasDefault) useTyped.checked = true;
      typed.hidden = useDefault.checked;
    },
    typedIn: () => useTyped.checked,
    country(fallback) {
      return useTyped.checked ? inputs.country.value.trim().toUpperCase() : fallback;
    },
    address() {
      const address = {};
      for (const [name] of ADDRESS_FIELDS) {
        const value = inputs[name].value.trim();
        if (value) address[name] = value;
      }
      return address;
    },
    method,
    breakdown,
  };
}

function breakdownRows(totals, currency) {
  const rows = [["Subtotal", totals.subtotal], ["Shipping", totals.shipping], ["Tax", totals.tax]];
  if (Number(totals.discount)) rows.push(["Discount", `-${money(totals.discount, currency)}`]);
  rows.push(["Total", totals.total]);
  return rows.map(([label, value]) => h("tr", {}, h("th", { scope: "row" }, label),
    h("td", { class: `num${label === "Total" ? " total" : ""}` }, String(value).startsWith("-") ? value : money(value, currency))));
}

export async function cart(page, token) {
  if (!session.get()) return needsSignIn("Your cart");
  const status = h("div");
  const body = h("div");
  const section = h("section", {}, h("h1", {}, "Your cart"), status, body);
  const delivery = deliveryForm((options) => reprice(options));
  let pricing = Promise.resolve(); // the last repricing: checkout waits for what it shows
  let current = null; // the cart as last read
  let defaultCountry = null; // the default address's country, if the book has one

  let shownTotal = null; // what the buyer sees: checkout is refused if the total changed
  let currency = null; // the cart's: every amount in it is in this currency
  // The discount code field keeps what the buyer typed across redraws of the cart.
  const code = h("input", { type: "text", id: "discount-code", maxlength: 32, autocomplete: "off",
    spellcheck: "false", placeholder: "e.g. WELCOME10" });
  function draw(next) {
    current = next;
    // The total the buyer is shown, sent back as expectedTotal exactly as the API spelled it.
    shownTotal = next.totals ? next.totals.total : next.total;
    currency = next.currency;
    page.setCart(next);
    if (!next.items.length) {
      body.replaceChildren(h("p", { class: "empty" }, "Your cart is empty. ", h("a", { href: "#/" }, "Browse the products"), "."));
      return;
    }
    if (defaultCountry === null && next.totalsFor) defaultCountry = next.totalsFor.country;
    delivery.show(defaultCountry !== null);
    drawLines(next);
    reprice({ keepMethod: true });
  }

  // Price the cart for the chosen destination and method; list the methods serving it.
  let latest = 0; // only the latest repricing's answer is shown (answers may cross)
  function reprice(options) {
    pricing = priceFor(options, ++latest);
    return pricing;
  }

  async function priceFor({ keepMethod } = {}, attempt) {
    const country = delivery.country(defaultCountry);
    const subtotal = current?.totals?.subtotal ?? "0";
    try {
      if (!keepMethod || !delivery.method.options.length) {
        if (!/^[A-Z]{2}$/.test(country ?? "")) {
          delivery.method.replaceChildren();
          delivery.breakdown.replaceChildren(h("tr", {}, h("td", {}, "Enter the address to see shipping and tax.")));
          return;
        }
        const options = await api("GET", `/shipping/options${query({ country, subtotal })}`);
        const cheapest = options.items.reduce((best, o) => (best && Number(best.price) <= Number(o.price) ? best : o), null);
        delivery.method.replaceChildren(...options.items.map((o) => h("option", { value: o.id, selected: o === cheapest },
          `${o.name} — ${money(o.price, options.currency)} (${o.estimatedDays.min}–${o.estimatedDays.max} days)`)));
        if (!options.items.length) {
          delivery.breakdown.replaceChildren(h("tr", {}, h("td", { class: "warn" }, `We do not ship to ${country}.`)));
          return;
        }
      }
      const params = { shippingMethod: delivery.method.value };
      if (delivery.typedIn()) Object.assign(params, { country, region: delivery.address().region });
      const priced = await api("GET", `/cart${query(params)}`);
      if (attempt !== latest) return;
      current = priced;
      shownTotal = priced.totals.total;
      delivery.breakdown.replaceChildren(h("caption", { class: "sr-only" }, "Order total"), ...breakdownRows(priced.totals, priced.currency));
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  }

  function drawLines(current) {
    const rows = current.items.map((line) => {
      const quantity = h("input", { type: "number", min: 1, max: 1000, value: line.quantity, class: "qty",
        "aria-label": `Quantity of ${line.name}` });
      quantity.addEventListener("change", () => change(`/cart/items/${encodeURIComponent(line.productId)}`, "PUT", { quantity: Number(quantity.value) }));
      return h("tr", {},
        h("th", { scope: "row" }, line.name, line.available ? null : h("span", { class: "warn" }, " — not available in this quantity")),
        h("td", { class: "num" }, money(line.unitPrice, currency)),
        h("td", {}, quantity),
        h("td", { class: "num" }, money(line.lineTotal, currency)),
        h("td", {}, h("button", { type: "button", class: "secondary", "aria-label": `Remove ${line.name}`,
          onclick: () => change(`/cart/items/${encodeURIComponent(line.productId)}`, "DELETE") }, "Remove")));
    });
    body.replaceChildren(
      h("table", {}, h("caption", { class: "sr-only" }, "Cart lines"),
        h("thead", {}, h("tr", {}, ["Product", "Unit price", "Quantity", "Line total", ""].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows),
        h("tfoot", {}, h("tr", {}, h("th", { scope: "row", colspan: 3 }, "Goods"), h("td", { class: "num" }, money(current.total, currency)), h("td")))),
      delivery.element,
      h("p", { class: "discount-field" }, h("label", { for: "discount-code" }, "Discount code "), code,
        h("span", { class: "hint" }, " (optional; applied when you check out)")),
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: checkout }, "Check out"),
        h("button", { type: "button", class: "secondary", onclick: empty }, "Empty cart")));
  }

  async function change(path, method, payload) {
    status.replaceChildren();
    try {
      draw(await api(method, path, payload));
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  }

  async function empty() {
    status.replaceChildren();
    try {
      await api("DELETE", "/cart");
      draw({ items: [], total: "0", totals: null, currency });
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  }

  // One key per checkout attempt: a retried click cannot order twice.
  const key = newIdempotencyKey();
  async function checkout() {
    status.replaceChildren();
    await pricing; // the total shown for the address and method chosen
    try {
      const payload = {
        expectedTotal: shownTotal,
        shippingMethod: delivery.method.value || undefined,
        ...(delivery.typedIn() ? { shippingAddress: delivery.address() } : {}),
      };
      if (code.value.trim()) payload.discountCode = code.value.trim();
      const order = await api("POST", "/cart/checkout", payload, { idempotencyKey: key });
      page.setCart(null);
      const saved = order.discountCode ? ` (${order.discountCode}: ${money(discountOf(order), order.currency)} off)` : "";
      page.notify(order.status === AWAITING_PAYMENT
        ? `Order ${order.orderId} placed: ${money(order.total, order.currency)}${saved}. Pay for it by ${when(order.payment?.expiresAt)}; until then its stock is held for you.`
        : `Order ${order.orderId} placed: ${money(order.total, order.currency)}${saved}. It is confirmed in a moment.`);
      page.go("#/orders");
    } catch (error) {
      if (error.code === "PriceChanged") {
        // Nothing was ordered: show the cart at today's prices and let the buyer decide.
        await change("/cart", "GET");
        status.replaceChildren(h("p", { class: "warn", role: "alert" },
          `The prices changed: your cart now totals ${money(error.body.total, currency)}. Check it, then check out again.`));
        return;
      }
      status.replaceChildren(failure(error));
    }
  }

  try {
    draw(await api("GET", "/cart"));
  } catch (error) {
    status.replaceChildren(failure(error));
  }
  return section;
}

export async function orders(page, token) {
  if (!session.get()) return needsSignIn("My orders");
  const status = h("div");
  const list = h("ol", { class: "orders", "aria-label": "Orders, newest first" });
  const live = h("p", { class: "live", "aria-live": "polite" });
  const paying = new Set(); // orders paid from this view: polled until the payment settles them
  let timer = null;
  page.onLeave(() => clearTimeout(timer));

  function orderItem(order) {
    const cancel = CANCELLABLE.has(order.status)
      ? h("button", { type: "button", class: "secondary", onclick: () => cancelOrder(order) }, "Cancel order")
      : null;
    return h("li", { class: "order", "data-order-id": order.orderId },
      h("div", { class: "order-head" },
        h("h2", {}, `Order ${order.orderId.slice(0, 8)}`), statusBadge(order.status),
        h("span", { class: "meta" }, when(order.createdAt))),
      h("ul", { class: "lines" }, order.items.map((line) =>
        h("li", {}, `${line.quantity} × ${line.name}`, h("span", { class: "num" }, money(line.lineTotal, order.currency)),
          line.discount ? h("span", { class: "num discount" }, ` −${money(line.discount, order.currency)}`) : null))),
      order.discountCode
        ? h("p", { class: "order-discount" }, `Discount ${order.discountCode}: −${money(discountOf(order), order.currency)}`)
        : null,
      order.totals && !order.legacy ? h("table", { class: "breakdown" }, h("caption", { class: "sr-only" }, "Breakdown"), breakdownRows(order.totals, order.currency)) : null,
      h("p", { class: "order-total" }, "Total ", h("strong", {}, money(order.total, order.currency))),
      order.shippingAddress ? h("p", { class: "meta ship-to" }, `Ships to ${addressLine(order.shippingAddress)}`,
        order.shippingMethod ? ` by ${order.shippingMethod.name}` : "") : null,
      order.fulfilment ? h("p", { class: "meta" }, `Shipped with ${order.fulfilment.carrier ?? "a carrier"}`,
        order.fulfilment.trackingNumber ? `, tracking ${order.fulfilment.trackingNumber}` : "") : null,
      order.status === AWAITING_PAYMENT && order.payment ? paymentBox(order) : null,
      afterSale(order),
      order.status === "DELIVERED" ? returnForm(order) : null,
      cancel);
  }

  // Refunds and returns so far, as the order shows them.
  function afterSale(order) {
    const rows = [];
    for (const ret of order.returns || []) {
      const what = ret.lines.map((l) => `${l.quantity} × ${nameOf(order, l.productId)}`).join(", ");
      const why = ret.rejectReason ? `: ${ret.rejectReason}` : "";
      rows.push(h("li", { class: "return" }, `Return of ${what}: ${ret.status}${why}`));
    }
    for (const refund of order.refunds || []) {
      rows.push(h("li", { class: "refund" }, `Refund ${refund.amount} (${refund.reason.replace("_", " ")}): ${refund.status}`));
    }
    return rows.length ? h("ul", { class: "after-sale", "aria-label": "Returns and refunds" }, rows) : null;
  }

  function nameOf(order, productId) {
    return order.items.find((line) => line.productId === productId)?.name ?? productId;
  }

  // A delivered order: pick how many of each line go back, say why, send.
  function returnForm(order) {
    const short = order.orderId.slice(0, 8);
    const counts = order.items.map((line) => [line, h("input", { type: "number", min: 0, max: line.quantity, step: 1, value: 0 })]);
    const reason = h("input", { type: "text", maxlength: 500 });
    const form = h("form", { class: "stack return-form", "aria-label": `Return items of order ${short}`, onsubmit: async (event) => {
      event.preventDefault();
      status.replaceChildren();
      const lines = counts.filter(([, input]) => Number(input.value) > 0)
        .map(([line, input]) => ({ productId: line.productId, quantity: Number(input.value) }));
      if (!lines.length) {
        status.replaceChildren(h("div", { class: "error", role: "alert" }, "Choose at least one item to return."));
        return;
      }
      const body = reason.value.trim() ? { lines, reason: reason.value.trim() } : { lines };
      try {
        await api("POST", `/orders/${encodeURIComponent(order.orderId)}/returns`, body);
        page.notify(`Return of order ${short} requested; we tell you when it is decided.`);
        await refresh();
      } catch (error) {
        status.replaceChildren(failure(error));
      }
    } }, h("fieldset", {}, h("legend", {}, "Return items"),
      counts.map(([line, input]) => field(`Return how many ${line.name}`, input, `of ${line.quantity}`)),
      field("Why (optional)", reason),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, "Request return"))));
    return h("details", { class: "returns" }, h("summary", {}, "Return items"), form);
  }

  // An order waiting for its payment: until when, and (test mode only) Stripe's test cards.
  function paymentBox(order) {
    const payment = order.payment;
    const short = order.orderId.slice(0, 8);
    const box = h("div", { class: "payment" },
      h("p", {}, h("strong", {}, "Awaiting payment."),
        ` Pay by ${when(payment.expiresAt)}, or the order expires and its stock goes back on sale.`));
    if (paying.has(order.orderId)) {
      box.append(h("p", { class: "meta" }, "Payment sent; waiting for Stripe to confirm it."));
    } else if (takesTestPayments(payment)) {
      box.append(h("div", { class: "actions" },
        h("button", { type: "button", "aria-describedby": `test-note-${short}`,
          onclick: (event) => pay(order, TEST_CARDS.ok, event.target) }, "Pay with test card"),
        h("button", { type: "button", class: "secondary", "aria-describedby": `test-note-${short}`,
          onclick: (event) => pay(order, TEST_CARDS.declined, event.target) }, "Pay with a declined test card")),
      h("p", { class: "hint", id: `test-note-${short}` },
        "Stripe test mode: no real card, no real money (Visa 4242 4242 4242 4242, or a card that is declined)."));
    } else {
      box.append(h("p", { class: "meta" }, "Card payment is not offered on this page for this shop."));
    }
    return box;
  }

  async function pay(order, paymentMethod, button) {
    status.replaceChildren();
    for (const other of button.parentElement.querySelectorAll("button")) other.disabled = true;
    const short = order.orderId.slice(0, 8);
    try {
      await confirmPayment(order.payment, paymentMethod);
      page.notify(`Payment for order ${short} sent; it is confirmed in a moment.`);
    } catch (error) {
      status.replaceChildren(failure(error));
      if (error.status === 0) {
        for (const other of button.parentElement.querySelectorAll("button")) other.disabled = false;
        return;
      }
    }
    // Settled or declined, Stripe tells the shop through its webhook: ask until it has.
    paying.add(order.orderId);
    await refresh();
  }

  async function cancelOrder(order) {
    status.replaceChildren();
    try {
      await api("POST", `/orders/${encodeURIComponent(order.orderId)}/cancel`);
      page.notify(`Order ${order.orderId.slice(0, 8)} cancelled; its stock is back on sale.`);
      await refresh();
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  }

  // While an order is PENDING, or paid here and still AWAITING_PAYMENT, ask again: the
  // order service confirms it asynchronously (after Stripe's webhook, for a payment).
  async function refresh() {
    clearTimeout(timer);
    try {
      // userId: an admin's own orders too, not everyone's.
      const answer = await api("GET", `/orders${query({ userId: session.get()?.userId, limit: 20 })}`);
      if (!page.isCurrent(token)) return;
      for (const order of answer.items) if (order.status !== AWAITING_PAYMENT) paying.delete(order.orderId);
      list.replaceChildren(...answer.items.map(orderItem));
      if (!answer.items.length) list.replaceChildren(h("li", { class: "empty" }, "No orders yet."));
      const pending = answer.items.some((order) => order.status === "PENDING");
      const settling = answer.items.some((order) => paying.has(order.orderId));
      live.textContent = settling ? "Waiting for the payment to be confirmed…" : pending ? "Waiting for confirmation…" : "";
      if (pending || settling) timer = setTimeout(refresh, POLL_MS);
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  }
  await refresh();
  return h("section", {}, h("h1", {}, "My orders"), status, live, list);
}
