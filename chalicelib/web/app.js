// The page: a hash router, the navigation, and the notices. Views live in shop.js and admin.js.
import { api, session } from "./api.js";
import { h } from "./dom.js";
import * as shop from "./shop.js";
import * as admin from "./admin.js";
import * as account from "./account.js";

const routes = [
  [/^#?\/?$/, shop.catalogue],
  [/^#\/product\/([^/]+)$/, shop.product],
  [/^#\/signin$/, shop.signIn],
  [/^#\/register$/, shop.register],
  [/^#\/verify-email$/, account.verifyEmail],
  [/^#\/forgot-password$/, account.forgotPassword],
  [/^#\/reset-password$/, account.resetPassword],
  [/^#\/cart$/, shop.cart],
  [/^#\/orders$/, shop.orders],
  [/^#\/addresses$/, account.addresses],
  [/^#\/admin$/, admin.products],
  [/^#\/admin\/fulfilment$/, admin.fulfilment],
  [/^#\/admin\/users$/, admin.users],
  [/^#\/admin\/discounts$/, admin.discounts],
  [/^#\/admin\/audit$/, admin.audit],
];

const view = document.getElementById("view");
const nav = document.getElementById("nav");
const notice = document.getElementById("notice");
let leaveView = null; // what the current view does when it is left (stop polling, ...)
let rendered = 0;
let keepNotice = false; // a notice given just before page.go() survives that navigation

// Shared with the views: navigation, notices and the cart count in the menu.
export const page = {
  go(hash) {
    if (location.hash === hash) render();
    else {
      keepNotice = true;
      location.hash = hash;
    }
  },
  notify(text) {
    notice.textContent = text;
    notice.classList.toggle("shown", Boolean(text));
  },
  cartCount: null,
  setCart(cart) {
    page.cartCount = cart ? cart.items.reduce((sum, line) => sum + line.quantity, 0) : null;
    drawNav();
  },
  onLeave(callback) {
    leaveView = callback;
  },
  isCurrent(token) {
    return token === rendered;
  },
};

function link(hash, text, attrs = {}) {
  const current = (location.hash || "#/").split("?")[0] === hash;
  return h("li", {}, h("a", { href: hash, "aria-current": current ? "page" : false, ...attrs }, text));
}

function drawNav() {
  const user = session.get();
  const items = [link("#/", "Products")];
  if (user) {
    const count = page.cartCount ? ` (${page.cartCount})` : "";
    items.push(link("#/cart", `Cart${count}`, { "data-test": "nav-cart" }));
    items.push(link("#/orders", "My orders"));
    items.push(link("#/addresses", "Addresses"));
    if (user.role === "admin") {
      items.push(link("#/admin", "Admin: products"));
      items.push(link("#/admin/fulfilment", "Fulfilment"));
      items.push(link("#/admin/users", "Users"));
      items.push(link("#/admin/discounts", "Discount codes"));
      items.push(link("#/admin/audit", "Audit trail"));
    }
    if (user.emailVerified === false) {
      items.push(h("li", {}, h("button", { type: "button", class: "link", "data-test": "resend-verification",
        onclick: () => account.resendVerification(page) }, "Confirm your email")));
    }
    items.push(
      h("li", { class: "who" }, h("span", {}, `Signed in as ${user.name}`), " ",
        h("button", { type: "button", class: "link", onclick: signOut }, "Sign out")),
    );
  } else {
    items.push(link("#/signin", "Sign in"), link("#/register", "Register"));
  }
  nav.replaceChildren(...items);
}

function signOut() {
  session.clear();
  page.cartCount = null;
  page.notify("You are signed out.");
  page.go("#/");
}

async function render() {
  if (leaveView) leaveView();
  leaveView = null;
  const token = ++rendered;
  const path = (location.hash || "#/").split("?")[0]; // the catalogue keeps its filters after "?"
  drawNav();
  for (const [pattern, show] of routes) {
    const match = path.match(pattern);
    if (match) {
      const content = await show(page, token, ...match.slice(1).map(decodeURIComponent));
      if (!page.isCurrent(token)) return; // the person moved on while this loaded
      view.replaceChildren(content);
      const heading = view.querySelector("h1");
      if (heading) heading.tabIndex = -1; // focused after a navigation (hashchange below)
      document.title = heading ? `${heading.textContent} · Shop` : "Shop";
      return;
    }
  }
  view.replaceChildren(h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/" }, "Back to the products")));
}

window.addEventListener("hashchange", () => {
  if (keepNotice) keepNotice = false;
  else page.notify("");
  render().then(() => {
    const heading = view.querySelector("h1");
    if (heading) heading.focus();
  });
});
window.addEventListener("session", drawNav);
// The skip link must not change the hash: that is the router's.
document.querySelector(".skip").addEventListener("click", (event) => {
  event.preventDefault();
  view.focus();
});

if (session.get()) {
  api("GET", "/cart").then(page.setCart, () => page.setCart(null));
}
render();
