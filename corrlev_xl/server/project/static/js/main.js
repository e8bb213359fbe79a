// corrlev-xl task pane: keep the desk token the user pastes (read by getAuth in auth.js).
const form = document.getElementById("corrlev-token-form");
if (form) {
  const input = document.getElementById("corrlev-token");
  const status = document.getElementById("corrlev-token-status");
  const show = () => {
    status.textContent = localStorage.getItem("corrlev-xl-token")
      ? "A token is saved in this Excel."
      : "No token saved yet: functions show #VALUE! until one is.";
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (token) {
      localStorage.setItem("corrlev-xl-token", token);
    } else {
      localStorage.removeItem("corrlev-xl-token");
    }
    input.value = "";
    show();
  });
  show();
}
