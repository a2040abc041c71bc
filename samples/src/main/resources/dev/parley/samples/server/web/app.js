// The browser chat page on the workspace-style API. Plain script, no framework: every piece of server or model text
// goes into the page through textContent or the safe markdown renderer, never as HTML.
(function () {
  'use strict';

  var LIST_SIZE = 10;
  var HISTORY_SIZE = 20;
  var TOKEN_KEY = 'parley.token';

  var $ = function (id) { return document.getElementById(id); };
  var state = {
    config: null,
    token: null,
    session: null,
    workspace: null,
    conversation: null,      // the open conversation's JSON
    listPage: 0,
    oldestPage: 0,           // the earliest history page shown
    loadingEarlier: false,
    shown: {},               // message ids in the history view
    stream: null             // {conversationId, stopping} while a reply streams
  };

  /** An error answer of the server: its status, its code (when the API gives one) and its message. */
  function ApiError(status, code, message) {
    this.status = status;
    this.code = code;
    this.message = message;
  }

  function headers(json) {
    var h = { 'Accept': 'application/json' };
    if (state.token) {
      h.Authorization = 'Bearer ' + state.token;
    }
    if (json) {
      h['Content-Type'] = 'application/json';
    }
    return h;
  }

  async function errorOf(response) {
    var body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    var message = body && typeof body.message === 'string' ? body.message : 'HTTP ' + response.status;
    return new ApiError(response.status, body && typeof body.code === 'string' ? body.code : null, message);
  }

  async function api(method, path, body) {
    var response = await fetch(path, {
      method: method,
      headers: headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store'
    });
    if (!response.ok) {
      throw await errorOf(response);
    }
    return response.json();
  }

  function wsPath(rest) {
    return '/api/v1/workspaces/' + encodeURIComponent(state.workspace) + '/conversations' + (rest || '');
  }

  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join('');
  }

  function text(el, value) {
    el.textContent = value == null ? '' : String(value);
    return el;
  }

  function make(name, cls, content) {
    var e = document.createElement(name);
    if (cls) {
      e.className = cls;
    }
    if (content !== undefined) {
      text(e, content);
    }
    return e;
  }

  function when(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? '' : d.toLocaleString();
  }

  // ---- sign-in

  async function start() {
    $('sign-in-form').addEventListener('submit', function (e) {
      e.preventDefault();
      signIn($('token').value.trim());
    });
    $('sign-out').addEventListener('click', signOut);
    $('workspace').addEventListener('change', function () {
      state.workspace = $('workspace').value;
      closeConversation();
      loadConversations(true);
    });
    $('new-conversation').addEventListener('click', function () { newConversation().catch(showComposerError); });
    $('more-conversations').addEventListener('click', function () { loadConversations(false); });
    $('history').addEventListener('scroll', onHistoryScroll);
    $('composer').addEventListener('submit', function (e) {
      e.preventDefault();
      send();
    });
    $('prompt').addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        send();
      }
    });
    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && state.stream) {
        e.preventDefault();
        stop();
      }
    });
    $('stop').addEventListener('click', stop);
    $('model').addEventListener('change', changeModel);

    try {
      state.config = await api('GET', '/ui/config');
    } catch (e) {
      showSignInError('The server did not answer: ' + e.message);
      return;
    }
    fillModels(state.config.models, state.config.defaultModel);
    showDemoUsers(state.config.demoUsers || []);
    var saved = window.sessionStorage.getItem(TOKEN_KEY);
    if (saved) {
      signIn(saved);
    } else {
      $('token').focus();
    }
  }

  function showDemoUsers(users) {
    var list = $('demo-user-list');
    list.replaceChildren();
    users.forEach(function (u) {
      var li = make('li');
      var b = make('button', 'demo-user');
      b.type = 'button';
      b.appendChild(make('strong', null, u.id));
      b.appendChild(document.createTextNode(' (' + u.role + ')'));
      b.setAttribute('data-user', u.id);
      b.addEventListener('click', function () {
        $('token').value = u.token;
        signIn(u.token);
      });
      li.appendChild(b);
      li.appendChild(make('code', 'token', u.token));
      list.appendChild(li);
    });
    $('demo-users').hidden = users.length === 0;
  }

  function showSignInError(message) {
    var e = $('sign-in-error');
    text(e, message);
    e.hidden = !message;
  }

  async function signIn(token) {
    if (!token) {
      showSignInError('Enter a bearer token.');
      $('token').focus();
      return;
    }
    state.token = token;
    var session;
    try {
      session = await api('GET', '/ui/session');
    } catch (e) {
      state.token = null;
      window.sessionStorage.removeItem(TOKEN_KEY);
      showSignInError(e.status === 401 ? 'That token is not known here.' : 'Sign-in failed: ' + e.message);
      $('token').focus();
      return;
    }
    window.sessionStorage.setItem(TOKEN_KEY, token);
    state.session = session;
    showSignInError('');
    $('token').value = '';
    $('sign-in').hidden = true;
    $('chat').hidden = false;
    $('sign-out').hidden = false;
    text($('who'), 'Signed in as ' + session.userId);
    var select = $('workspace');
    select.replaceChildren();
    session.workspaces.forEach(function (w) {
      var o = make('option', null, w.name + ' (' + w.role + ')');
      o.value = w.id;
      select.appendChild(o);
    });
    if (!session.workspaces.length) {
      text($('conversation-list-status'), 'This user has no workspace.');
      $('new-conversation').disabled = true;
      return;
    }
    $('new-conversation').disabled = false;
    state.workspace = session.workspaces[0].id;
    closeConversation();
    await loadConversations(true);
    $('prompt').focus();
  }

  function signOut() {
    if (state.stream) {
      stop();
    }
    window.sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    state.session = null;
    closeConversation();
    $('chat').hidden = true;
    $('sign-out').hidden = true;
    $('sign-in').hidden = false;
    text($('who'), '');
    $('token').focus();
  }

  function fillModels(models, selected) {
    var select = $('model');
    select.replaceChildren();
    (models || []).forEach(function (name) {
      var o = make('option', null, name);
      o.value = name;
      select.appendChild(o);
    });
    if (selected) {
      select.value = selected;
    }
  }

  // ---- conversation list

  function conversationLabel(c) {
    return when(c.createdAt) + (c.modelName ? ' · ' + c.modelName : '');
  }

  function listItem(c) {
    var li = make('li');
    var b = make('button', 'conversation-item');
    b.type = 'button';
    b.setAttribute('data-id', c.id);
    b.appendChild(make('span', 'conversation-when', conversationLabel(c)));
    b.appendChild(make('span', 'conversation-id', c.id));
    b.addEventListener('click', function () { openConversation(c.id); });
    li.appendChild(b);
    return li;
  }

  async function loadConversations(reset) {
    var list = $('conversation-list');
    if (reset) {
      state.listPage = 0;
      list.replaceChildren();
    }
    var page;
    try {
      page = await api('GET', wsPath('?page=' + (state.listPage + 1) + '&size=' + LIST_SIZE));
    } catch (e) {
      text($('conversation-list-status'), 'Could not list conversations: ' + e.message);
      return;
    }
    state.listPage = page.page.currentPage;
    page.data.forEach(function (c) {
      if (!list.querySelector('[data-id="' + CSS.escape(c.id) + '"]')) {
        list.appendChild(listItem(c));
      }
    });
    text($('conversation-list-status'), page.page.totalElements === 0 ? 'No conversations yet.' : '');
    $('more-conversations').hidden = page.page.currentPage >= page.page.totalPages;
    markCurrent();
  }

  function markCurrent() {
    Array.prototype.forEach.call($('conversation-list').querySelectorAll('.conversation-item'), function (b) {
      var current = state.conversation && b.getAttribute('data-id') === state.conversation.id;
      if (current) {
        b.setAttribute('aria-current', 'true');
      } else {
        b.removeAttribute('aria-current');
      }
    });
  }

  async function newConversation() {
    var model = $('model').value;
    var c = await api('POST', wsPath(), model ? { modelName: model } : {});
    $('conversation-list').prepend(listItem(c));
    text($('conversation-list-status'), '');
    await openConversation(c.id, c);
    return c;
  }

  function closeConversation() {
    state.conversation = null;
    state.oldestPage = 0;
    state.shown = {};
    $('messages').replaceChildren();
    text($('history-status'), 'Pick a conversation or start a new one.');
  }

  // ---- history

  async function openConversation(id, known) {
    if (state.stream) {
      return;
    }
    closeConversation();
    text($('history-status'), 'Loading…');
    try {
      var c = known || await api('GET', wsPath('/' + encodeURIComponent(id)));
      state.conversation = c;
      markCurrent();
      if (c.modelName) {
        $('model').value = c.modelName;
      } else if (state.config) {
        $('model').value = state.config.defaultModel || '';
      }
      var first = await api('GET', wsPath('/' + encodeURIComponent(id) + '/messages?page=1&size=' + HISTORY_SIZE));
      var last = first;
      if (first.page.totalPages > 1) {
        last = await api('GET', wsPath('/' + encodeURIComponent(id) + '/messages?page=' + first.page.totalPages
          + '&size=' + HISTORY_SIZE));
      }
      if (!state.conversation || state.conversation.id !== id) {
        return;
      }
      state.oldestPage = Math.max(1, last.page.currentPage);
      last.data.forEach(function (m) { appendMessage(m); });
      updateHistoryStatus(first.page.totalElements);
      scrollToBottom();
      fillIfShort();
    } catch (e) {
      text($('history-status'), 'Could not open the conversation: ' + e.message);
    }
  }

  function updateHistoryStatus(total) {
    if (total === 0) {
      text($('history-status'), 'No messages yet. Say something.');
    } else if (state.oldestPage > 1) {
      text($('history-status'), 'Scroll up for earlier messages.');
    } else {
      text($('history-status'), 'Start of the conversation.');
    }
  }

  function onHistoryScroll() {
    if ($('history').scrollTop < 40) {
      loadEarlier();
    }
  }

  /** Loads earlier pages while the view has no scroll bar, so that there is always something to scroll to. */
  function fillIfShort() {
    var h = $('history');
    if (h.scrollHeight <= h.clientHeight && state.oldestPage > 1) {
      loadEarlier().then(fillIfShort);
    }
  }

  async function loadEarlier() {
    var c = state.conversation;
    if (!c || state.loadingEarlier || state.oldestPage <= 1) {
      return;
    }
    state.loadingEarlier = true;
    text($('history-status'), 'Loading earlier messages…');
    try {
      var page = await api('GET', wsPath('/' + encodeURIComponent(c.id) + '/messages?page=' + (state.oldestPage - 1)
        + '&size=' + HISTORY_SIZE));
      if (state.conversation !== c) {
        return;
      }
      var h = $('history');
      var before = h.scrollHeight;
      var list = $('messages');
      var anchor = list.firstChild;
      page.data.forEach(function (m) {
        if (!state.shown[m.id]) {
          list.insertBefore(messageItem(m), anchor);
          state.shown[m.id] = true;
        }
      });
      h.scrollTop += h.scrollHeight - before;
      state.oldestPage = page.page.currentPage;
      updateHistoryStatus(page.page.totalElements);
    } catch (e) {
      text($('history-status'), 'Could not load earlier messages: ' + e.message);
    } finally {
      state.loadingEarlier = false;
    }
  }

  function scrollToBottom() {
    var h = $('history');
    h.scrollTop = h.scrollHeight;
  }

  function nearBottom() {
    var h = $('history');
    return h.scrollHeight - h.scrollTop - h.clientHeight < 80;
  }

  /** One message's list item: its role, its text (markdown for replies), and for a reply its tokens and credits. */
  function messageItem(m) {
    var li = make('li', 'message ' + (m.role === 'user' ? 'from-user' : 'from-assistant'));
    li.setAttribute('data-id', m.id);
    li.appendChild(make('span', 'role', m.role === 'user' ? 'You' : 'Assistant'));
    var body = make('div', 'body');
    li.appendChild(body);
    var meta = make('p', 'meta');
    li.appendChild(meta);
    setMessage(li, m);
    return li;
  }

  function setMessage(li, m) {
    var body = li.querySelector('.body');
    if (m.role === 'user') {
      body.replaceChildren(make('p', 'plain', m.text));
    } else {
      body.replaceChildren(window.ParleyMarkdown.render(m.text));
    }
    li.setAttribute('data-status', m.status || '');
    text(li.querySelector('.meta'), m.role === 'user' ? when(m.createdAt) : meta(m));
  }

  function meta(m) {
    var parts = [];
    if (m.status === 'CANCELLED') {
      parts.push('Stopped: partial reply kept');
    } else if (m.status === 'FAILED') {
      parts.push('Failed');
    }
    if (m.modelName) {
      parts.push(m.modelName);
    }
    if (m.tokensIn != null || m.tokensOut != null) {
      parts.push((m.tokensIn == null ? '?' : m.tokensIn) + ' tokens in, '
        + (m.tokensOut == null ? '?' : m.tokensOut) + ' out');
    }
    if (m.creditsUsed != null) {
      parts.push(m.creditsUsed + ' credits used');
    }
    if (m.creditsRemaining != null) {
      parts.push(m.creditsRemaining + ' credits left');
    }
    return parts.join(' · ');
  }

  function appendMessage(m) {
    var li = messageItem(m);
    $('messages').appendChild(li);
    state.shown[m.id] = true;
    return li;
  }

  // ---- composer and streaming

  function setBusy(busy) {
    $('send').disabled = busy;
    $('stop').disabled = !busy;
    $('model').disabled = busy;
    $('new-conversation').disabled = busy;
  }

  function showComposerError(e) {
    text($('composer-status'), e && e.message ? e.message : String(e));
  }

  async function changeModel() {
    var c = state.conversation;
    var model = $('model').value;
    if (!c || c.modelName === model) {
      return;
    }
    try {
      state.conversation = await api('PATCH', wsPath('/' + encodeURIComponent(c.id)), { modelName: model });
      text($('composer-status'), 'This conversation now uses ' + model + '.');
    } catch (e) {
      showComposerError(e);
      $('model').value = c.modelName || '';
    }
  }

  /** What a refusal is shown as, in place of the reply. */
  function refusal(li, code, message) {
    var title;
    if (code === 'policyBlocked') {
      title = 'Blocked by policy';
    } else if (code === 'budgetExceeded') {
      title = 'Refused: not enough credits';
    } else if (code === 'rateLimited') {
      title = 'Refused: too many requests, try again shortly';
    } else if (code === 'conversationLocked') {
      title = 'Another reply is still streaming in this conversation';
    } else {
      title = 'The reply failed';
    }
    li.classList.add('refused');
    li.setAttribute('data-status', code || 'error');
    var box = make('div', 'refusal');
    box.setAttribute('role', 'alert');
    box.appendChild(make('strong', null, title));
    box.appendChild(make('p', null, message));
    li.querySelector('.body').replaceChildren(box);
    text(li.querySelector('.meta'), code ? 'code: ' + code : '');
  }

  async function send() {
    if (state.stream) {
      return;
    }
    var promptText = $('prompt').value;
    if (!promptText.trim()) {
      text($('composer-status'), 'Write a message first.');
      $('prompt').focus();
      return;
    }
    var context = $('context').value.trim();
    text($('composer-status'), '');
    setBusy(true);
    var stream = { conversationId: null, stopping: false };
    state.stream = stream;
    try {
      if (!state.conversation) {
        await newConversation();
      }
      var c = state.conversation;
      stream.conversationId = c.id;
      var body = { id: newId(), text: promptText };
      if (context) {
        body.additionalContext = [{ content: context, category_name: 'page' }];
      }
      $('prompt').value = '';
      $('context').value = '';
      appendMessage({ id: body.id, role: 'user', text: promptText, createdAt: new Date().toISOString() });
      var reply = appendMessage({ id: 'pending-' + body.id, role: 'assistant', text: '', status: 'STREAMING' });
      reply.setAttribute('aria-busy', 'true');
      text(reply.querySelector('.meta'), 'Replying…');
      updateHistoryStatus(1);
      scrollToBottom();
      await streamReply(c, body, reply);
    } catch (e) {
      showComposerError(e);
    } finally {
      state.stream = null;
      setBusy(false);
      $('prompt').focus();
    }
  }

  async function streamReply(c, body, li) {
    var response = await fetch(wsPath('/' + encodeURIComponent(c.id) + '/message-streams'), {
      method: 'POST',
      headers: headers(true),
      body: JSON.stringify(body),
      cache: 'no-store'
    });
    if (!response.ok) {
      var error = await errorOf(response);
      li.removeAttribute('aria-busy');
      refusal(li, error.code, error.message);
      return;
    }
    var reader = response.body.getReader();
    var decoder = new TextDecoder('utf-8');
    var buffer = '';
    var received = '';
    var ended = false;
    while (!ended) {
      var chunk = await reader.read();
      if (chunk.done) {
        buffer += decoder.decode();
      } else {
        buffer += decoder.decode(chunk.value, { stream: true });
      }
      buffer = buffer.replace(/\r\n?/g, '\n');
      var cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        var event = parseEvent(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
        if (!event) {
          continue;
        }
        var follow = nearBottom();
        if (event.name === 'delta') {
          received += event.data.text;
          li.querySelector('.body').replaceChildren(window.ParleyMarkdown.render(received));
          li.setAttribute('data-received', String(received.length));
        } else if (event.name === 'final') {
          li.removeAttribute('aria-busy');
          li.setAttribute('data-id', event.data.id);
          state.shown[event.data.id] = true;
          setMessage(li, event.data);
          ended = true;
        } else if (event.name === 'error') {
          li.removeAttribute('aria-busy');
          refusal(li, event.data.code, event.data.message);
          ended = true;
        }
        if (follow) {
          scrollToBottom();
        }
      }
      if (chunk.done) {
        break;
      }
    }
    if (!ended) {
      li.removeAttribute('aria-busy');
      refusal(li, null, 'The connection closed before the reply ended.');
    }
    reader.cancel().catch(function () { /* already closed */ });
  }

  /** One Server-Sent Event block as {name, data}; null for a comment or a block without data. */
  function parseEvent(block) {
    var name = 'message';
    var data = [];
    block.split('\n').forEach(function (line) {
      if (line.indexOf('event:') === 0) {
        name = line.slice(6).trim();
      } else if (line.indexOf('data:') === 0) {
        data.push(line.slice(5).replace(/^ /, ''));
      }
    });
    if (!data.length) {
      return null;
    }
    try {
      return { name: name, data: JSON.parse(data.join('\n')) };
    } catch (e) {
      return null;
    }
  }

  async function stop() {
    var s = state.stream;
    if (!s || s.stopping || !s.conversationId) {
      return;
    }
    s.stopping = true;
    $('stop').disabled = true;
    text($('composer-status'), 'Stopping…');
    try {
      await api('DELETE', wsPath('/' + encodeURIComponent(s.conversationId) + '/message-streams'));
      text($('composer-status'), 'Stopped.');
    } catch (e) {
      showComposerError(e);
    }
  }

  document.addEventListener('DOMContentLoaded', start);
}());
