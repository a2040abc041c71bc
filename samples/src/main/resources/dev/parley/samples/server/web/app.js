// The browser chat page on the workspace-style API. Plain script, no framework: every piece of server or model text
// goes into the page through textContent or the safe markdown renderer, never as HTML.
(function () {
  'use strict';

  var LIST_SIZE = 10;
  var HISTORY_SIZE = 20;
  var TOKEN_KEY = 'parley.token';
  /** How long after the server answered a stop the last deltas sent before it may still come in. */
  var STOP_GRACE_MS = 1000;

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
    stream: null             // the reply that streams, see send()
  };

  /**
   * An error answer of the server: its status, its code (when the API gives one), its message, and the seconds of its
   * Retry-After header (null without one).
   */
  function ApiError(status, code, message, retryAfter) {
    this.status = status;
    this.code = code;
    this.message = message;
    this.retryAfter = retryAfter;
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
    return new ApiError(response.status, body && typeof body.code === 'string' ? body.code : null, message,
      retryAfterSeconds(response.headers.get('Retry-After')));
  }

  /** The seconds a Retry-After value asks to wait (given as seconds or as a date); null when there is none. */
  function retryAfterSeconds(value) {
    if (!value) {
      return null;
    }
    if (/^\s*\d+\s*$/.test(value)) {
      return parseInt(value, 10);
    }
    var at = Date.parse(value);
    return isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
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
      abandonStream();
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
    abandonStream();
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
    var token = state.token;
    var workspace = state.workspace;
    var c = await api('POST', wsPath(), model ? { modelName: model } : {});
    if (state.token !== token || state.workspace !== workspace) {
      return c; // signed out or moved to another workspace meanwhile
    }
    $('conversation-list').prepend(listItem(c));
    text($('conversation-list-status'), '');
    await showConversation(c.id, c);
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

  /** Opens a conversation the user picked; while a reply streams the open one stays. */
  async function openConversation(id, known) {
    if (state.stream) {
      return;
    }
    await showConversation(id, known);
  }

  /** Shows the conversation of the id (its JSON when known) with the newest page of its history. */
  async function showConversation(id, known) {
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

  /**
   * Locks the composer while a reply streams. Stop stays disabled until the server has answered with the event
   * stream (streamReply enables it): before that there is nothing for it to stop.
   */
  function setBusy(busy) {
    $('send').disabled = busy;
    $('stop').disabled = true;
    $('model').disabled = busy;
    $('workspace').disabled = busy;
    $('new-conversation').disabled = busy || !(state.session && state.session.workspaces.length);
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

  /** Whether an error answer is the server's stream limit: too many streams of the caller, or of the server. */
  function streamLimit(error) {
    return (error.status === 429 || error.status === 503) && /^streams:/.test(error.message || '');
  }

  function retryHint(seconds) {
    return seconds == null ? 'try again shortly' : 'try again in ' + seconds + ' s';
  }

  /** What a refusal is shown as, in place of the reply; the error is the error answer when there was one. */
  function refusal(li, code, message, error) {
    var title;
    if (error && streamLimit(error)) {
      title = 'Too many streams open \u2014 ' + retryHint(error.retryAfter);
    } else if (code === 'policyBlocked') {
      title = 'Blocked by policy';
    } else if (code === 'budgetExceeded') {
      title = 'Refused: not enough credits';
    } else if (code === 'rateLimited') {
      title = 'Refused: too many requests, ' + retryHint(error ? error.retryAfter : null);
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

  /**
   * Sends the prompt, in a new conversation when none is open, and streams its reply in. While it streams,
   * state.stream holds the reply's conversation, its stream path and the token it was sent with (so that a stop
   * reaches the same stream after a sign-out), the fetch's AbortController, whether the server has answered with the
   * event stream (open), and where a stop stands (stopRequested, stopping, stopAnswered).
   */
  async function send() {
    if (state.stream || !state.workspace) {
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
    var stream = {
      conversationId: null, path: null, token: state.token, controller: new AbortController(),
      open: false, stopping: false, stopRequested: false, stopAnswered: false, stopAnsweredAt: 0, abandoned: false
    };
    state.stream = stream;
    setBusy(true);
    try {
      if (!state.conversation) {
        await newConversation();
      }
      if (stream.abandoned) {
        return;
      }
      var c = state.conversation;
      if (!c) {
        throw new Error('The new conversation could not be opened.');
      }
      stream.conversationId = c.id;
      stream.path = wsPath('/' + encodeURIComponent(c.id) + '/message-streams');
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
      await streamReply(stream, body, reply);
    } catch (e) {
      if (!stream.abandoned) {
        showComposerError(e);
      }
    } finally {
      if (state.stream === stream) {
        state.stream = null;
        setBusy(false);
        $('prompt').focus();
      }
    }
  }

  /** Shows that the connection failed in place of the reply li; what the server kept is in the history. */
  function connectionFailed(li, e) {
    li.removeAttribute('aria-busy');
    refusal(li, null, 'The connection failed before the reply ended (' + (e && e.message ? e.message : String(e))
      + '). Open the conversation again to see what was kept.');
    text(li.querySelector('.refusal strong'), 'The connection failed');
    li.setAttribute('data-status', 'connectionFailed');
  }

  async function streamReply(s, body, li) {
    var response;
    try {
      response = await fetch(s.path, {
        method: 'POST',
        headers: headers(true),
        body: JSON.stringify(body),
        cache: 'no-store',
        signal: s.controller.signal
      });
    } catch (e) {
      if (!s.abandoned) {
        connectionFailed(li, e);
      }
      return;
    }
    if (!response.ok) {
      var error = await errorOf(response);
      li.removeAttribute('aria-busy');
      refusal(li, error.code, error.message, error);
      if (s.stopRequested) {
        text($('composer-status'), '');
      }
      return;
    }
    s.open = true;
    if (s.stopRequested) {
      requestStop(s);
    } else {
      $('stop').disabled = false;
    }
    var reader = response.body.getReader();
    var decoder = new TextDecoder('utf-8');
    var buffer = '';
    var received = '';
    var ended = false;
    try {
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
            replyGoesOn(s);
          } else if (event.name === 'final') {
            li.removeAttribute('aria-busy');
            li.setAttribute('data-id', event.data.id);
            state.shown[event.data.id] = true;
            setMessage(li, event.data);
            if (s.stopping || s.stopAnswered) {
              text($('composer-status'), event.data.status === 'CANCELLED' ? 'Stopped.' : '');
            }
            ended = true;
          } else if (event.name === 'error') {
            li.removeAttribute('aria-busy');
            refusal(li, event.data.code, event.data.message);
            if (s.stopping || s.stopAnswered) {
              text($('composer-status'), '');
            }
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
    } catch (e) {
      if (!s.abandoned) {
        connectionFailed(li, e);
      }
      return;
    } finally {
      reader.cancel().catch(function () { /* already closed */ });
    }
    if (!ended && !s.abandoned) {
      li.removeAttribute('aria-busy');
      refusal(li, null, 'The connection closed before the reply ended.');
    }
  }

  /**
   * A delta came well after the server had answered a stop: the stop did not take (the server found no stream to
   * cancel, or gave up waiting for it), so Stop is offered again.
   */
  function replyGoesOn(s) {
    if (s.stopAnswered && state.stream === s && Date.now() - s.stopAnsweredAt > STOP_GRACE_MS) {
      s.stopping = false;
      s.stopRequested = false;
      s.stopAnswered = false;
      $('stop').disabled = false;
      text($('composer-status'), 'The reply goes on; press Stop again to stop it.');
    }
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

  /**
   * Stops the streaming reply. Before the server has answered with the event stream a stop would find nothing to
   * stop, so it is remembered and sent as soon as the stream is open.
   */
  function stop() {
    var s = state.stream;
    if (!s || s.stopping || s.stopRequested) {
      return;
    }
    s.stopRequested = true;
    $('stop').disabled = true;
    text($('composer-status'), 'Stopping…');
    if (s.open) {
      requestStop(s);
    }
  }

  /** Asks the server to cancel the open stream s; its final event follows. */
  async function requestStop(s) {
    if (s.stopping) {
      return;
    }
    s.stopping = true;
    s.stopAnswered = false;
    $('stop').disabled = true;
    try {
      await cancelOnServer(s);
      s.stopAnswered = true;
      s.stopAnsweredAt = Date.now();
    } catch (e) {
      if (state.stream === s) {
        s.stopping = false;
        s.stopRequested = false;
        $('stop').disabled = false;
        showComposerError(e);
      }
    }
  }

  /** The DELETE that cancels the server's stream of s, with the token it was sent with. */
  async function cancelOnServer(s) {
    var response = await fetch(s.path, {
      method: 'DELETE',
      headers: { 'Accept': 'application/json', 'Authorization': 'Bearer ' + s.token },
      cache: 'no-store'
    });
    if (!response.ok) {
      throw await errorOf(response);
    }
  }

  /**
   * Leaves the streaming reply, for a sign-out or another workspace: its fetch is aborted and the server told to
   * cancel it (the partial reply is kept there), and the page is free for the next message at once.
   */
  function abandonStream() {
    var s = state.stream;
    if (!s) {
      return;
    }
    s.abandoned = true;
    state.stream = null;
    s.controller.abort();
    if (s.path) {
      cancelOnServer(s).catch(function () { /* the server also cancels it once it notices the client gone */ });
    }
    text($('composer-status'), '');
    setBusy(false);
  }

  document.addEventListener('DOMContentLoaded', start);
}());
