// The one place that talks to the API: the same public routes curl uses.

// The page's files are served under <api root>/web/, so the API root is one level up
// (locally http://127.0.0.1:8000/, on AWS https://<id>.execute-api.<region>.amazonaws.com/api/).
const API_ROOT = new URL("..", import.meta.url);
const SESSION_KEY = "shop.session";

export class ApiError extends Error {
  constructor(status, body) {
    super(body.error);
    this.status = status;
    this.code = body.code;
    this.body = body;
  }
}

// The token lives in sessionStorage (this tab only, gone when it closes), never in a cookie.
export const session = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(SESSION_KEY));
    } catch {
      return null;
    }
  },
  set(value) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
    window.dispatchEvent(new Event("session"));
  },
  clear() {
    sessionStorage.removeItem(SESSION_KEY);
    window.dispatchEvent(new Event("session"));
  },
};

export async function api(method, path, body, { idempotencyKey } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const current = session.get();
  if (current) headers.Authorization = `Bearer ${current.token}`;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    response = await fetch(new URL(path.replace(/^\//, ""), API_ROOT), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { error: "The shop cannot be reached; check your connection", code: "NetworkError" });
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    // An expired or revoked token: forget it, the person signs in again.
    if (response.status === 401 && current) session.clear();
    const worded = data && typeof data.error === "string" ? data : { error: `HTTP ${response.status}`, code: "HttpError" };
    throw new ApiError(response.status, worded);
  }
  return data;
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}

export async function signIn(email, password) {
  const login = await api("POST", "/users/login", { email, password });
  session.set({ token: login.token, userId: login.userId, name: login.name, role: "customer" });
  // The login answer carries no role: the profile says whether this is an admin.
  const user = await api("GET", `/users/${encodeURIComponent(login.userId)}`);
  // Signed out (or in as someone else) while the profile loaded: do not sign back in.
  if (session.get()?.token !== login.token) return user;
  session.set({
    token: login.token, userId: login.userId, name: user.name, role: user.role, emailVerified: user.emailVerified,
  });
  return user;
}

export function newIdempotencyKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

// Paying: the browser confirms the order's PaymentIntent with Stripe itself, the way
// Stripe.js does (the stage's publishable key and the intent's client secret; no token of
// ours). Card data goes to Stripe only, never to our API. The page offers Stripe's test
// payment methods only, and only with a test key (pk_test_...).
export const TEST_CARDS = { ok: "pm_card_visa", declined: "pm_card_chargeCustomerFail" };

export function takesTestPayments(payment) {
  return Boolean(payment?.clientSecret && payment.apiBase && payment.publishableKey?.startsWith("pk_test_"));
}

export async function confirmPayment(payment, paymentMethod) {
  const url = `${payment.apiBase}/v1/payment_intents/${encodeURIComponent(payment.paymentIntentId)}/confirm`;
  // A form body and no custom header: a "simple" cross-origin request, as Stripe.js sends.
  const body = new URLSearchParams({
    key: payment.publishableKey,
    client_secret: payment.clientSecret,
    payment_method: paymentMethod,
  });
  let response;
  try {
    response = await fetch(url, { method: "POST", body });
  } catch {
    throw new ApiError(0, { error: "Stripe cannot be reached; check your connection", code: "NetworkError" });
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error ?? {};
    throw new ApiError(response.status, {
      error: typeof error.message === "string" ? error.message : `Stripe answered HTTP ${response.status}`,
      code: error.decline_code || error.code || error.type || "PaymentError",
    });
  }
  return data;
}
