import { createElement as h } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';

// The access token comes from your backend; this example takes it from the page's address
// (?token=...) so that one static build serves every user.
const token = new URLSearchParams(window.location.search).get('token');

createRoot(document.getElementById('root')).render(
  token ? h(App, { token }) : h('p', { id: 'status' }, 'open this page with ?token=<access token>'),
);
