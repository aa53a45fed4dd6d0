// A small chat written the way React apps for @twilio/conversations are: the conversation list
// follows conversationJoined / conversationRemoved, history pages backwards with prevPage,
// typing and the read horizon come from the SDK, media goes up as FormData and comes back
// through getContentTemporaryUrl. Only the import names convo.
//
// Plain JavaScript with React.createElement, so that Vite and webpack build it without a JSX
// toolchain.
import { createElement as h, useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { Client } from '@convo-sdk/conversations';

const PAGE_SIZE = 5;

export function App({ token }) {
  const [client, setClient] = useState(null);
  const [status, setStatus] = useState('connecting');
  const [error, setError] = useState('');
  const [conversations, setConversations] = useState([]);
  const [selected, setSelected] = useState(null);

  useEffect(() => {
    const c = new Client(token);
    c.on('stateChanged', (state) => {
      if (state === 'initialized') setStatus('ready');
      if (state === 'failed') setStatus('failed');
    });
    c.on('initFailed', ({ error }) => {
      setStatus('failed');
      setError(error ? error.message : 'the client failed to initialise');
    });
    c.on('connectionError', (e) => setError(e.message));
    c.on('connectionStateChanged', (state) => {
      if (state === 'connected') setError('');
    });
    c.on('conversationJoined', (conversation) => {
      setConversations((list) => (list.some((x) => x.sid === conversation.sid) ? list : [...list, conversation]));
    });
    c.on('conversationRemoved', (conversation) => {
      setConversations((list) => list.filter((x) => x.sid !== conversation.sid));
      setSelected((s) => (s && s.sid === conversation.sid ? null : s));
    });
    setClient(c);
    return () => {
      c.removeAllListeners();
      c.shutdown();
    };
  }, [token]);

  return h('div', { className: 'app' },
    h('header', null,
      h('span', { id: 'status' }, status),
      ' ',
      h('span', { id: 'me' }, client && status === 'ready' ? client.user.identity : ''),
      error ? h('p', { id: 'error', role: 'alert' }, error) : null),
    status === 'ready'
      ? h('main', null,
        h(NewConversation, { client, onCreated: setSelected }),
        h('ul', { id: 'conversations' }, conversations.map((c) => h(ConversationItem, {
          key: c.sid, conversation: c, selected: !!selected && selected.sid === c.sid, onSelect: () => setSelected(c),
        }))),
        selected ? h(ConversationView, { key: selected.sid, conversation: selected, onClose: () => setSelected(null) }) : null)
      : null);
}

function NewConversation({ client, onCreated }) {
  const [name, setName] = useState('');
  const [invitee, setInvitee] = useState('');
  const create = async (event) => {
    event.preventDefault();
    const conversation = await client.createConversation({ friendlyName: name });
    await conversation.join();
    if (invitee) await conversation.add(invitee);
    setName('');
    setInvitee('');
    onCreated(conversation);
  };
  return h('form', { id: 'create-form', onSubmit: create },
    h('input', { id: 'new-name', placeholder: 'conversation name', value: name, onChange: (e) => setName(e.target.value) }),
    h('input', { id: 'invitee', placeholder: 'add identity', value: invitee, onChange: (e) => setInvitee(e.target.value) }),
    h('button', { id: 'create', type: 'submit' }, 'create'));
}

// useRerender re-renders a component when an SDK object it shows changes in place.
function useRerender() {
  return useReducer((n) => n + 1, 0)[1];
}

function ConversationItem({ conversation, selected, onSelect }) {
  const [unread, setUnread] = useState(null);
  const rerender = useRerender();
  useEffect(() => {
    let live = true;
    const refresh = () => {
      conversation.getUnreadMessagesCount().then((n) => live && setUnread(n), () => {});
      rerender();
    };
    refresh();
    conversation.on('updated', refresh);
    conversation.on('messageAdded', refresh);
    return () => {
      live = false;
      conversation.removeListener('updated', refresh);
      conversation.removeListener('messageAdded', refresh);
    };
  }, [conversation, rerender]);
  return h('li', { className: 'conversation' + (selected ? ' selected' : ''), 'data-sid': conversation.sid, onClick: onSelect },
    h('span', { className: 'name' }, conversation.friendlyName || conversation.sid),
    ' ',
    h('span', { className: 'unread' }, unread === null ? '' : String(unread)));
}

function ConversationView({ conversation, onClose }) {
  const [messages, setMessages] = useState([]);
  const [page, setPage] = useState(null);
  const [typing, setTyping] = useState([]);
  const [draft, setDraft] = useState('');
  const fileInput = useRef(null);

  useEffect(() => {
    let live = true;
    const merge = (list, more) => {
      const byIndex = new Map(list.map((m) => [m.index, m]));
      for (const m of more) byIndex.set(m.index, m);
      return [...byIndex.values()].sort((a, b) => a.index - b.index);
    };
    conversation.getMessages(PAGE_SIZE).then((p) => {
      if (!live) return;
      setPage(p);
      setMessages((list) => merge(list, p.items));
      conversation.setAllMessagesRead().catch(() => {});
    });
    const added = (m) => {
      setMessages((list) => merge(list, [m]));
      conversation.setAllMessagesRead().catch(() => {});
    };
    // Who is typing already, then typingStarted / typingEnded.
    conversation.getParticipants().then((ps) => {
      if (live) setTyping((list) => [...new Set([...list, ...ps.filter((p) => p.isTyping).map((p) => p.identity)])]);
    }, () => {});
    const started = (p) => setTyping((list) => (list.includes(p.identity) ? list : [...list, p.identity]));
    const ended = (p) => setTyping((list) => list.filter((x) => x !== p.identity));
    conversation.on('messageAdded', added);
    conversation.on('typingStarted', started);
    conversation.on('typingEnded', ended);
    return () => {
      live = false;
      conversation.removeListener('messageAdded', added);
      conversation.removeListener('typingStarted', started);
      conversation.removeListener('typingEnded', ended);
    };
  }, [conversation]);

  const older = useCallback(async () => {
    const p = await page.prevPage();
    setPage(p);
    setMessages((list) => {
      const known = new Set(list.map((m) => m.index));
      return [...p.items.filter((m) => !known.has(m.index)), ...list];
    });
  }, [page]);

  const send = async (event) => {
    event.preventDefault();
    if (!draft) return;
    setDraft('');
    await conversation.sendMessage(draft);
  };

  const sendFile = async () => {
    const file = fileInput.current.files[0];
    if (!file) return;
    const form = new FormData();
    form.append('file', file);
    await conversation.sendMessage(form);
    fileInput.current.value = '';
  };

  return h('section', { id: 'conversation', 'data-sid': conversation.sid },
    h('h2', null, conversation.friendlyName, ' ', h('button', { id: 'close', type: 'button', onClick: onClose }, 'close')),
    page && page.hasPrevPage ? h('button', { id: 'older', type: 'button', onClick: older }, 'older messages') : null,
    h('ol', { id: 'messages' }, messages.map((m) => h(MessageItem, { key: m.index, message: m }))),
    h('p', { id: 'typing' }, typing.length ? typing.join(', ') + ' typing…' : ''),
    h('form', { id: 'composer', onSubmit: send },
      h('input', {
        id: 'draft', value: draft, autoComplete: 'off',
        onChange: (e) => {
          setDraft(e.target.value);
          conversation.typing().catch(() => {});
        },
      }),
      h('button', { id: 'send', type: 'submit' }, 'send'),
      h('input', { id: 'file', type: 'file', ref: fileInput, onChange: sendFile })));
}

function MessageItem({ message }) {
  const media = message.attachedMedia || [];
  return h('li', { className: 'message', 'data-index': message.index },
    h('span', { className: 'author' }, message.author),
    ': ',
    h('span', { className: 'body' }, message.body || ''),
    media.map((m) => h(MediaView, { key: m.sid, media: m })));
}

function MediaView({ media }) {
  const [url, setUrl] = useState(null);
  useEffect(() => {
    let live = true;
    media.getContentTemporaryUrl().then((u) => live && setUrl(u), () => {});
    return () => {
      live = false;
    };
  }, [media]);
  if (!url) return null;
  return media.contentType.startsWith('image/')
    ? h('img', { className: 'media', src: url, alt: media.filename || 'image' })
    : h('a', { className: 'media', href: url }, media.filename || 'attachment');
}
