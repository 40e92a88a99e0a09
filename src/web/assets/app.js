// credwarden dashboard: progressive enhancement only. Every page works without this script.
// - A form with data-confirm asks before it is sent (approve, deny, rollback).
// - A "Copy link" button (data-copy-link) copies the current view's URL, filter and sort included.
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

for (const button of document.querySelectorAll('[data-copy-link]')) {
  button.hidden = false;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(window.location.href);
      button.textContent = 'Link copied';
    } catch {
      button.textContent = 'Copy the address bar to share';
    }
  });
}
