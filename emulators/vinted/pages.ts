// The HTML side of the emulated Vinted: the login form that sets the session cookie, the home
// page whose <meta name="csrf-token"> a client reads before any mutation, and an item's page
// (the `url` items answer with). Plain server-rendered HTML, nothing else.
import type { Item, Member, Session } from './store.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(title: string, session: Session | null, body: string): string {
  // GUESS: a logged-out page carries no csrf-token meta (section 2 only promises it on pages of
  // a logged-in session); a client reads the session from /api/v2/users/current, not from this.
  const csrf = session ? `\n<meta name="csrf-token" content="${esc(session.csrf)}">` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)} | Vinted (emulated)</title>${csrf}
</head>
<body>
<header><a href="/">Vinted (emulated)</a> ${session ? `<span data-testid="member">${esc(session.login)}</span>` : '<a href="/member/login">Log in</a>'}</header>
<main>
${body}
</main>
</body>
</html>
`;
}

export function homePage(session: Session | null, member: Member | null): string {
  if (!session || !member) return page('Home', null, '<h1>Sell without fees</h1>\n<p><a href="/member/login">Log in</a> to sell.</p>');
  const live = member.items.filter((i) => !i.deleted);
  return page(
    'Home',
    session,
    `<h1>Welcome, ${esc(member.login)}</h1>\n<p data-testid="user-id">${member.id}</p>\n<p>${live.length} item(s) in your wardrobe.</p>`,
  );
}

export function loginPage(error: string | null, login = ''): string {
  return page(
    'Log in',
    null,
    `<h1>Log in</h1>
${error ? `<p role="alert">${esc(error)}</p>\n` : ''}<form method="post" action="/member/login">
<label>Email or username <input name="login" autocomplete="username" value="${esc(login)}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Continue</button>
</form>`,
  );
}

export function itemPage(session: Session | null, item: Item, priceText: string, photoUrls: string[]): string {
  const imgs = photoUrls.map((u) => `<img src="${esc(u)}" alt="">`).join('\n');
  return page(
    item.title,
    session,
    `<h1>${esc(item.title)}</h1>\n<p data-testid="price">${esc(priceText)}</p>\n<p>${esc(item.description)}</p>\n${imgs}${item.isClosed ? '\n<p>Sold</p>' : ''}`,
  );
}

export const notFoundPage = (session: Session | null): string => page('Page not found', session, '<h1>Page not found</h1>');
