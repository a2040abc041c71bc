// A small, safe markdown renderer for model replies: paragraphs, **bold**, *italic*, `inline code`, fenced code
// blocks, "- " and "1. " lists and "#" headings. It only ever creates elements and text nodes (textContent), so any
// HTML in the text is shown as text and never parsed.
(function () {
  'use strict';

  var FENCE = /^\s*(```|~~~)/;
  var BULLET = /^\s*[-*+]\s+(.*)$/;
  var NUMBERED = /^\s*(\d{1,9})[.)]\s+(.*)$/;
  var HEADING = /^\s*(#{1,6})\s+(.*)$/;
  var INLINE = /`([^`\n]+)`|\*\*(?=\S)([\s\S]*?\S)\*\*|\*(?=[^\s*])([^*\n]*?[^\s*])\*/g;

  function el(name, cls) {
    var e = document.createElement(name);
    if (cls) {
      e.className = cls;
    }
    return e;
  }

  /** Appends the inline markup of text to parent: code spans, strong, emphasis; the rest as text nodes. */
  function inline(text, parent) {
    var last = 0;
    var m;
    INLINE.lastIndex = 0;
    var matches = [];
    while ((m = INLINE.exec(text)) !== null) {
      matches.push({ index: m.index, length: m[0].length, code: m[1], bold: m[2], italic: m[3] });
    }
    matches.forEach(function (x) {
      if (x.index > last) {
        parent.appendChild(document.createTextNode(text.slice(last, x.index)));
      }
      var node;
      if (x.code !== undefined) {
        node = el('code');
        node.textContent = x.code;
      } else if (x.bold !== undefined) {
        node = el('strong');
        inline(x.bold, node);
      } else {
        node = el('em');
        inline(x.italic, node);
      }
      parent.appendChild(node);
      last = x.index + x.length;
    });
    if (last < text.length) {
      parent.appendChild(document.createTextNode(text.slice(last)));
    }
  }

  /** Appends lines to parent as one block's text, each line after the first on a new line. */
  function lines(list, parent) {
    list.forEach(function (line, i) {
      if (i > 0) {
        parent.appendChild(el('br'));
      }
      inline(line, parent);
    });
  }

  /** The markdown text as a document fragment of safe nodes. */
  function render(text) {
    var out = document.createDocumentFragment();
    var all = String(text).replace(/\r\n?/g, '\n').split('\n');
    var i = 0;
    var paragraph = [];

    function flush() {
      if (paragraph.length) {
        var p = el('p');
        lines(paragraph, p);
        out.appendChild(p);
        paragraph = [];
      }
    }

    while (i < all.length) {
      var line = all[i];
      var m;
      if (FENCE.test(line)) {
        flush();
        var fence = line.match(FENCE)[1];
        var lang = line.replace(FENCE, '').trim();
        var code = [];
        i++;
        while (i < all.length && !(all[i].trim().indexOf(fence) === 0 && all[i].trim().replace(fence, '') === '')) {
          code.push(all[i]);
          i++;
        }
        i++; // the closing fence, or past the end
        var pre = el('pre');
        var c = el('code');
        if (/^[A-Za-z0-9_+-]{1,30}$/.test(lang)) {
          c.setAttribute('data-language', lang);
        }
        c.textContent = code.join('\n');
        pre.appendChild(c);
        out.appendChild(pre);
        continue;
      }
      if (line.trim() === '') {
        flush();
        i++;
        continue;
      }
      if ((m = line.match(HEADING))) {
        flush();
        var h = el('h' + Math.min(6, m[1].length + 2));
        inline(m[2], h);
        out.appendChild(h);
        i++;
        continue;
      }
      if (BULLET.test(line) || NUMBERED.test(line)) {
        flush();
        var ordered = !BULLET.test(line);
        var pattern = ordered ? NUMBERED : BULLET;
        var listEl = el(ordered ? 'ol' : 'ul');
        if (ordered) {
          var start = parseInt(line.match(NUMBERED)[1], 10);
          if (start !== 1) {
            listEl.setAttribute('start', String(start));
          }
        }
        while (i < all.length && pattern.test(all[i])) {
          var item = all[i].match(pattern);
          var li = el('li');
          inline(ordered ? item[2] : item[1], li);
          listEl.appendChild(li);
          i++;
          // a following indented line continues the item
          while (i < all.length && /^\s{2,}\S/.test(all[i]) && !BULLET.test(all[i]) && !NUMBERED.test(all[i])) {
            li.appendChild(el('br'));
            inline(all[i].trim(), li);
            i++;
          }
        }
        out.appendChild(listEl);
        continue;
      }
      paragraph.push(line);
      i++;
    }
    flush();
    return out;
  }

  window.ParleyMarkdown = { render: render };
}());
