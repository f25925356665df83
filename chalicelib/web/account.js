// The account's emailed links: verifying the address, and resetting a forgotten password.
// A link opens #/verify-email?token=... or #/reset-password?token=...; the token stays in
// the fragment (never sent to a server, nor in a Referer) and leaves the address bar once read.
import { api, ApiError, session } from "./api.js";
import { errorBox, field, h } from "./dom.js";

function failure(error) {
  if (error instanceof ApiError) return errorBox(error);
  throw error;
}

// The link's token, then the fragment without it (kept out of the history).
function takeToken() {
  const token = new URLSearchParams((location.hash.split("?")[1] ?? "")).get("token") ?? "";
  history.replaceState(null, "", location.hash.split("?")[0]);
  return token;
}

export async function verifyEmail(page) {
  const token = takeToken();
  const status = h("div");
  const section = h("section", { class: "narrow" }, h("h1", {}, "Confirm your email address"), status);
  try {
    const verified = await api("POST", "/users/verify-email", { token });
    const current = session.get();
    if (current?.userId === verified.userId) session.set({ ...current, emailVerified: true });
    status.replaceChildren(h("p", { "data-test": "verified" }, `${verified.email} is confirmed. Order emails will reach it.`));
  } catch (error) {
    status.replaceChildren(failure(error),
      h("p", {}, "Signed in, you can ask for a new link from the menu."));
  }
  return section;
}

export async function forgotPassword(page) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const status = h("div");
  const form = h("form", { class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    status.replaceChildren();
    try {
      const answer = await api("POST", "/users/forgot-password", { email: email.value.trim() });
      status.replaceChildren(h("p", { "data-test": "reset-requested" }, answer.message));
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  } }, field("Email", email), h("button", { type: "submit" }, "Email me a reset link"), status);
  return h("section", { class: "narrow" }, h("h1", {}, "Forgot your password?"),
    h("p", {}, "We email a link to choose a new one. It also lifts a lock after too many wrong passwords."),
    form);
}

export async function resetPassword(page) {
  const token = takeToken();
  const password = h("input", { type: "password", name: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const status = h("div");
  const form = h("form", { class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    status.replaceChildren();
    try {
      await api("POST", "/users/reset-password", { token, password: password.value });
      session.clear(); // every token issued before the reset is revoked
      page.notify("Your password is changed, and every device signed out. Sign in with the new one.");
      page.go("#/signin");
    } catch (error) {
      status.replaceChildren(failure(error));
    }
  } }, field("New password", password, "At least 8 characters."), h("button", { type: "submit" }, "Set the new password"), status);
  return h("section", { class: "narrow" }, h("h1", {}, "Choose a new password"), form);
}

// The menu's reminder for a signed-in, unverified account.
export async function resendVerification(page) {
  try {
    const answer = await api("POST", "/users/verify-email/resend");
    page.notify(answer.message);
  } catch (error) {
    page.notify(error instanceof ApiError ? error.message : String(error));
  }
}

// The address book (at most 10 addresses, one the default): list, add, delete, make default.
// The API checks and normalises every field (docs/api.md#addresses) and words each refusal.
const ADDRESS_FIELDS = [
  ["name", "Name", { autocomplete: "name", required: true, maxlength: 100 }],
  ["line1", "Address line 1", { autocomplete: "address-line1", required: true, maxlength: 200 }],
  ["line2", "Address line 2", { autocomplete: "address-line2", maxlength: 200 }, "Optional."],
  ["city", "City", { autocomplete: "address-level2", required: true, maxlength: 100 }],
  ["region", "State or region", { autocomplete: "address-level1", maxlength: 100 },
    "Required in the US, Canada and Australia, as its abbreviation (IL, ON, NSW)."],
  ["postalCode", "Postal code", { autocomplete: "postal-code", maxlength: 20 }],
  ["country", "Country", { autocomplete: "country", required: true, maxlength: 2, minlength: 2 },
    "Two-letter ISO code: US, GB, DE, FR, JP, ..."],
  ["phone", "Phone", { type: "tel", autocomplete: "tel", maxlength: 32 }, "Optional."],
];

export function addressLines(address) {
  const place = [address.postalCode, address.city, address.region].filter(Boolean).join(" ");
  return [address.name, address.line1, address.line2, `${place}, ${address.country}`, address.phone]
    .filter(Boolean);
}

export async function addresses(page, token) {
  const user = session.get();
  if (!user) {
    return h("section", {}, h("h1", {}, "Addresses"),
      h("p", {}, h("a", { href: "#/signin" }, "Sign in"), " to keep your addresses."));
  }
  const book = `/users/${encodeURIComponent(user.userId)}/addresses`;
  const status = h("div");
  const list = h("ul", { class: "addresses", "aria-label": "Your addresses" });

  async function act(request, notice) {
    status.replaceChildren();
    try {
      await request();
      if (notice) page.notify(notice);
      await load();
      return true;
    } catch (error) {
      status.replaceChildren(failure(error));
      return false;
    }
  }

  function entry(address) {
    const label = address.line1;
    return h("li", { class: "address card", "data-address-id": address.addressId },
      address.isDefault ? h("span", { class: "tag" }, "Default") : null,
      h("address", {}, addressLines(address).map((text) => h("div", {}, text))),
      h("div", { class: "actions" },
        address.isDefault ? null : h("button", { type: "button", class: "secondary", "aria-label": `Make ${label} the default`,
          onclick: () => act(() => api("PUT", `${book}/${encodeURIComponent(address.addressId)}`, { isDefault: true }),
            `${label} is now your default address.`) }, "Make default"),
        h("button", { type: "button", class: "danger", "aria-label": `Delete ${label}`,
          onclick: () => act(() => api("DELETE", `${book}/${encodeURIComponent(address.addressId)}`),
            `${label} is deleted.`) }, "Delete")));
  }

  async function load() {
    const { items } = await api("GET", book);
    if (!page.isCurrent(token)) return;
    list.replaceChildren(...(items.length ? items.map(entry) : [h("li", { class: "empty" }, "No addresses yet.")]));
  }

  const inputs = Object.fromEntries(ADDRESS_FIELDS.map(([name, , attrs]) => [name, h("input", { name, ...attrs })]));
  const makeDefault = h("input", { type: "checkbox", name: "isDefault" });
  const form = h("form", { class: "stack card-form", onsubmit: async (event) => {
    event.preventDefault();
    const body = {};
    for (const [name, input] of Object.entries(inputs)) if (input.value.trim()) body[name] = input.value.trim();
    if (makeDefault.checked) body.isDefault = true;
    if (await act(() => api("POST", book, body), `${body.line1} is added.`)) form.reset();
  } },
  h("fieldset", {}, h("legend", {}, "Add an address"),
    ADDRESS_FIELDS.map(([name, label, , hint]) => field(label, inputs[name], hint)),
    h("label", { class: "check" }, makeDefault, " Make this my default address"),
    h("button", { type: "submit" }, "Add address")));

  try {
    await load();
  } catch (error) {
    status.replaceChildren(failure(error));
  }
  return h("section", {}, h("h1", {}, "Addresses"),
    h("p", { class: "hint" }, "Up to 10. The default one is first; orders can be sent to any of them."),
    list, status, form);
}
