// corrlev-xl: the credentials sent with every function and script call.
// Entra ID as in xlwings Server; otherwise the desk token (CORRLEV_SERVER_TOKEN on the
// server) that the user pasted into the task pane, kept in this Excel's local storage.
const CORRLEV_TOKEN_KEY = "corrlev-xl-token";

globalThis.getAuth = async function () {
  const providers = (globalThis.config && globalThis.config.authProviders) || [];
  if (providers.includes("entraid")) {
    return { token: await xlwings.getAccessToken(), provider: "entraid" };
  }
  if (providers.includes("custom")) {
    return { token: localStorage.getItem(CORRLEV_TOKEN_KEY) || "", provider: "custom" };
  }
  return { token: "", provider: "" };
};
