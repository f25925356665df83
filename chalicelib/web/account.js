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
