// Demo chat page for convo. It uses only the public, vendor-compatible API of the SDK, the same
// calls an application written for @twilio/conversations would make.
//
// User data (identities, names, message bodies) is only ever written with textContent.

const $ = (id) => document.getElementById(id);

const el = {
  state: $('state'),
  whoami: $('whoami'),
  logout: $('logout'),
  error: $('error'),
  loginBox: $('login-box'),
  loginForm: $('login-form'),
  identity: $('identity'),
  login: $('login'),
  loginAlice: $('login-alice'),
  loginBob: $('login-bob'),
  app: $('app'),
  conversations: $('conversations'),
  createForm: $('create-form'),
  newName: $('new-conversation-name'),
  joinForm: $('join-form'),
  joinSid: $('join-sid'),
  currentSid: $('current-sid'),
  older: $('older'),
  messages: $('messages'),
  typing: $('typing'),
  sendForm: $('send-form'),
  messageInput: $('message-input'),
  send: $('send'),
  attach: $('attach'),
  cancelEdit: $('cancel-edit'),
  addForm: $('add-form'),
  addIdentity: $('add-identity'),
};

// Everything the page knows; also reachable as window.convoDemo for debugging and tests.
const demo = {
  Client: null, // the SDK's Client class, once loaded
  client: null, // the logged-in client
  identity: '',
  current: null, // the selected Conversation
  page: null, // paginator of the oldest page shown for the current conversation
  typists: new Set(), // identities currently typing in the current conversation
};
window.convoDemo = demo;

// ----- errors --------------------------------------------------------------------------------

function showError(err) {
  const message = err && err.message ? err.message : String(err);
  const code = err && err.code !== undefined && err.code !== null ? ` (code ${err.code})` : '';
  el.error.textContent = message + code;
  el.error.hidden = false;
  console.error(err);
}

function clearError() {
  el.error.textContent = '';
  el.error.hidden = true;
}

// Runs a user action: clears the previous error, reports a failure, keeps the button from being
// pressed twice while the action runs.
async function act(button, fn) {
  clearError();
  if (button) button.disabled = true;
  try {
    await fn();
  } catch (err) {
    showError(err);
  } finally {
    if (button) button.disabled = false;
  }
}

// ----- SDK loading and login -----------------------------------------------------------------

async function loadSdk() {
  try {
    const sdk = await import('/sdk/index.js');
    demo.Client = sdk.Client;
    if (typeof demo.Client !== 'function') throw new Error('the SDK did not export Client');
    el.state.textContent = 'logged out';
    for (const b of [el.login, el.loginAlice, el.loginBob]) b.disabled = false;
  } catch (err) {
    el.state.textContent = 'SDK failed to load';
    showError(err);
  }
}

async function fetchToken(identity) {
  const res = await fetch('/v1/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identity }),
  });
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON; handled below
  }
  if (!res.ok || !body || typeof body.token !== 'string') {
    const detail = body && (body.error || body.message);
    const err = new Error(
      `could not get a token: HTTP ${res.status}` +
        (detail ? ` ${typeof detail === 'string' ? detail : detail.message || JSON.stringify(detail)}` : ''),
    );
    if (detail && detail.code !== undefined) err.code = detail.code;
    throw err;
  }
  return body.token;
}

async function login(identity) {
  identity = identity.trim();
  if (!identity) throw new Error('enter an identity');
  if (demo.client) await logout();

  const token = await fetchToken(identity);
  const client = new demo.Client(token);
  demo.client = client;
  demo.identity = identity;
  el.identity.value = identity;
  el.whoami.textContent = `logged in as ${identity}`;
  el.loginBox.hidden = true;
  el.app.hidden = false;
  el.logout.hidden = false;

  showState(client.connectionState);
  client.on('connectionStateChanged', showState);
  client.on('connectionError', (e) => showError(new Error(`connection: ${e.message}`)));
  client.on('initFailed', ({ error }) => showError(error || new Error('client initialisation failed')));
  client.on('initialized', () => loadConversations().catch(showError));
  client.on('tokenAboutToExpire', () => renewToken().catch(showError));
  client.on('tokenExpired', () => renewToken().catch(showError));

  client.on('conversationJoined', upsertConversation);
  client.on('conversationAdded', upsertConversation);
  client.on('conversationUpdated', ({ conversation }) => upsertConversation(conversation));
  client.on('conversationLeft', dropConversation);
  client.on('conversationRemoved', dropConversation);

  client.on('messageAdded', onMessageAdded);
  client.on('messageUpdated', ({ message }) => {
    if (isCurrent(message.conversation)) renderMessage(message);
  });
  client.on('messageRemoved', (message) => {
    if (isCurrent(message.conversation)) findMessage(message.index)?.remove();
  });

  client.on('typingStarted', (participant) => onTyping(participant, true));
  client.on('typingEnded', (participant) => onTyping(participant, false));
}

async function renewToken() {
  if (!demo.client) return;
  await demo.client.updateToken(await fetchToken(demo.identity));
}

async function logout() {
  const client = demo.client;
  demo.client = null;
  demo.current = null;
  demo.page = null;
  demo.typists.clear();
  el.conversations.replaceChildren();
  el.messages.replaceChildren();
  el.currentSid.textContent = '';
  el.typing.textContent = '';
  el.older.disabled = true;
  el.whoami.textContent = '';
  el.app.hidden = true;
  el.logout.hidden = true;
  el.loginBox.hidden = false;
  el.state.textContent = 'logged out';
  if (client) {
    if (typeof client.removeAllListeners === 'function') client.removeAllListeners();
    // Log-out: nothing of this identity stays in the browser.
    await client.eraseLocalStore();
  }
}

function showState(state) {
  el.state.textContent = state;
}

// ----- conversation list ---------------------------------------------------------------------

async function loadConversations() {
  let page = await demo.client.getSubscribedConversations();
  for (;;) {
    for (const conversation of page.items) upsertConversation(conversation);
    if (!page.hasNextPage) break;
    page = await page.nextPage();
  }
}

function conversationItem(sid) {
  for (const li of el.conversations.children) if (li.dataset.sid === sid) return li;
  return null;
}

function upsertConversation(conversation) {
  let li = conversationItem(conversation.sid);
  if (!li) {
    li = document.createElement('li');
    li.dataset.sid = conversation.sid;
    const name = document.createElement('span');
    name.className = 'name';
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.title = 'unread messages';
    li.append(name, badge);
    li.addEventListener('click', () => act(null, () => selectConversation(conversation)));
    el.conversations.append(li);
  }
  li.querySelector('.name').textContent = conversation.friendlyName || conversation.sid;
  li.classList.toggle('active', isCurrent(conversation));
  refreshUnread(conversation);
}

function dropConversation(conversation) {
  conversationItem(conversation.sid)?.remove();
  if (isCurrent(conversation)) clearCurrent();
}

// Unread counts are a nice-to-have: when the SDK cannot say (null, or an error in an early
// build) the badge simply stays empty.
async function refreshUnread(conversation) {
  const badge = conversationItem(conversation.sid)?.querySelector('.badge');
  if (!badge) return;
  let count = null;
  if (!isCurrent(conversation) && conversation.status === 'joined') {
    try {
      count = await conversation.getUnreadMessagesCount();
    } catch (err) {
      console.warn('unread count unavailable', err);
    }
  }
  badge.textContent = typeof count === 'number' && count > 0 ? String(count) : '';
}

// ----- the selected conversation -------------------------------------------------------------

function isCurrent(conversation) {
  return !!demo.current && !!conversation && demo.current.sid === conversation.sid;
}

function clearCurrent() {
  demo.current = null;
  demo.page = null;
  demo.typists.clear();
  el.currentSid.textContent = '';
  el.messages.replaceChildren();
  el.typing.textContent = '';
  el.older.disabled = true;
}

async function selectConversation(conversation) {
  clearCurrent();
  demo.current = conversation;
  el.currentSid.textContent = conversation.sid;
  for (const li of el.conversations.children) li.classList.toggle('active', li.dataset.sid === conversation.sid);

  const page = await conversation.getMessages(30);
  if (!isCurrent(conversation)) return; // another conversation was picked meanwhile
  demo.page = page;
  for (const message of page.items) renderMessage(message);
  el.older.disabled = !page.hasPrevPage;
  scrollToBottom();
  markRead(conversation);
}

async function markRead(conversation) {
  try {
    await conversation.setAllMessagesRead();
  } catch (err) {
    console.warn('could not update the read horizon', err);
  }
  refreshUnread(conversation);
}

async function loadOlder() {
  const conversation = demo.current;
  if (!demo.page || !demo.page.hasPrevPage) return;
  const page = await demo.page.prevPage();
  if (!isCurrent(conversation)) return;
  demo.page = page;
  const before = el.messages.scrollHeight;
  for (const message of page.items) renderMessage(message);
  el.messages.scrollTop += el.messages.scrollHeight - before; // keep the view where it was
  el.older.disabled = !page.hasPrevPage;
}

function findMessage(index) {
  for (const li of el.messages.children) if (Number(li.dataset.index) === index) return li;
  return null;
}

// Inserts or refreshes the list item for a message, keeping the list ordered by index.
function renderMessage(message) {
  let li = findMessage(message.index);
  if (!li) {
    li = document.createElement('li');
    li.dataset.index = String(message.index);
    const author = document.createElement('span');
    author.className = 'author';
    const body = document.createElement('span');
    body.className = 'body';
    const time = document.createElement('time');
    time.className = 'time';
    const media = document.createElement('span');
    media.className = 'media';
    const actions = document.createElement('span');
    actions.className = 'actions';
    li.append(author, body, media, time, actions);
    let next = null;
    for (const other of el.messages.children) {
      if (Number(other.dataset.index) > message.index) {
        next = other;
        break;
      }
    }
    el.messages.insertBefore(li, next);
  }
  const mine = message.author === demo.identity;
  li.classList.toggle('mine', mine);
  li.classList.toggle('edited', Boolean(message.lastUpdatedBy));
  li.querySelector('.author').textContent = message.author ?? '(unknown)';
  li.querySelector('.body').textContent = message.body ?? '';
  renderMedia(li.querySelector('.media'), message);
  renderActions(li.querySelector('.actions'), message, mine);
  const when = message.dateCreated;
  const time = li.querySelector('.time');
  time.textContent = when instanceof Date ? when.toLocaleTimeString() : '';
  if (when instanceof Date) time.dateTime = when.toISOString();
}

// Shows a message's attachments: images inline, other files as download links. Their content
// is read through short-lived URLs the SDK fetches on demand.
function renderMedia(box, message) {
  const media = message.attachedMedia || [];
  if (box.dataset.sids === media.map((m) => m.sid).join(',')) return;
  box.dataset.sids = media.map((m) => m.sid).join(',');
  box.replaceChildren();
  for (const m of media) {
    const link = document.createElement('a');
    link.className = 'attachment';
    link.textContent = `${m.filename || 'file'} (${m.size} bytes)`;
    link.href = '#';
    link.addEventListener('click', (e) => {
      e.preventDefault();
      m.getContentTemporaryUrl().then((url) => window.open(url, '_blank', 'noopener')).catch(showError);
    });
    box.append(link);
    if (/^image\//.test(m.contentType)) {
      const img = document.createElement('img');
      img.alt = m.filename || 'image';
      m.getContentTemporaryUrl().then((url) => { img.src = url; }).catch(showError);
      box.append(img);
    }
  }
}

// Edit and delete buttons for the user's own messages.
function renderActions(box, message, mine) {
  box.replaceChildren();
  if (!mine) return;
  const edit = document.createElement('button');
  edit.type = 'button';
  edit.className = 'edit';
  edit.textContent = 'edit';
  edit.addEventListener('click', () => startEdit(message));
  const del = document.createElement('button');
  del.type = 'button';
  del.className = 'delete';
  del.textContent = 'delete';
  del.addEventListener('click', () => act(del, () => message.remove()));
  box.append(edit, del);
}

function startEdit(message) {
  demo.editing = message;
  el.messageInput.value = message.body ?? '';
  el.send.textContent = 'Save';
  el.cancelEdit.hidden = false;
  el.messageInput.focus();
}

function stopEdit() {
  demo.editing = null;
  el.send.textContent = 'Send';
  el.cancelEdit.hidden = true;
  el.messageInput.value = '';
}

function scrollToBottom() {
  el.messages.scrollTop = el.messages.scrollHeight;
}

function onMessageAdded(message) {
  const conversation = message.conversation;
  if (!isCurrent(conversation)) {
    if (conversation) refreshUnread(conversation);
    return;
  }
  const atBottom = el.messages.scrollHeight - el.messages.scrollTop - el.messages.clientHeight < 40;
  renderMessage(message);
  if (atBottom || message.author === demo.identity) scrollToBottom();
  // A message from someone ends their typing indicator; the SDK also says so with typingEnded.
  if (message.author && demo.typists.delete(message.author)) showTypists();
  markRead(conversation);
}

function onTyping(participant, started) {
  if (!isCurrent(participant.conversation) || !participant.identity) return;
  if (participant.identity === demo.identity) return;
  if (started) demo.typists.add(participant.identity);
  else demo.typists.delete(participant.identity);
  showTypists();
}

function showTypists() {
  const names = [...demo.typists];
  el.typing.textContent =
    names.length === 0 ? '' : `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} typing…`;
}

function requireCurrent() {
  if (!demo.current) throw new Error('select a conversation first');
  return demo.current;
}

// ----- wiring --------------------------------------------------------------------------------

el.loginForm.addEventListener('submit', (e) => {
  e.preventDefault();
  act(el.login, () => login(el.identity.value));
});
el.loginAlice.addEventListener('click', () => act(el.loginAlice, () => login('alice')));
el.loginBob.addEventListener('click', () => act(el.loginBob, () => login('bob')));
el.logout.addEventListener('click', () => act(el.logout, logout));

el.createForm.addEventListener('submit', (e) => {
  e.preventDefault();
  act(el.createForm.querySelector('button'), async () => {
    const friendlyName = el.newName.value.trim();
    const conversation = await demo.client.createConversation(friendlyName ? { friendlyName } : {});
    await conversation.join();
    el.newName.value = '';
    upsertConversation(conversation);
    await selectConversation(conversation);
  });
});

el.joinForm.addEventListener('submit', (e) => {
  e.preventDefault();
  act(el.joinForm.querySelector('button'), async () => {
    const sid = el.joinSid.value.trim();
    if (!sid) throw new Error('enter a conversation sid');
    const conversation = await demo.client.peekConversationBySid(sid);
    if (conversation.status !== 'joined') await conversation.join();
    el.joinSid.value = '';
    upsertConversation(conversation);
    await selectConversation(conversation);
  });
});

el.older.addEventListener('click', () => act(el.older, loadOlder).then(() => {
  el.older.disabled = !demo.page || !demo.page.hasPrevPage;
}));

el.sendForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = el.messageInput.value;
  if (!text.trim()) return;
  act(el.sendForm.querySelector('button'), async () => {
    if (demo.editing) {
      await demo.editing.updateBody(text);
      stopEdit();
      return;
    }
    const conversation = requireCurrent();
    await conversation.sendMessage(text);
    el.messageInput.value = '';
  });
});

el.cancelEdit.addEventListener('click', stopEdit);

el.attach.addEventListener('change', () => {
  const file = el.attach.files[0];
  if (!file) return;
  act(el.send, async () => {
    // A File is a Blob with a name: the SDK uploads it, then sends the message.
    await requireCurrent().prepareMessage().addMedia(file).buildAndSend();
    el.attach.value = '';
  });
});

el.messageInput.addEventListener('input', () => {
  // typing() is rate-limited inside the SDK, so calling it on every keystroke is fine.
  if (demo.current && el.messageInput.value) demo.current.typing().catch((err) => console.warn('typing', err));
});

el.addForm.addEventListener('submit', (e) => {
  e.preventDefault();
  act(el.addForm.querySelector('button'), async () => {
    const identity = el.addIdentity.value.trim();
    if (!identity) throw new Error('enter an identity to add');
    await requireCurrent().add(identity);
    el.addIdentity.value = '';
  });
});

loadSdk();
