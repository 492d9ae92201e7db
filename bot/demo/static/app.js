// The demo page: pick who you are and a chat, talk to the real bot, move its clock.
// Everything a person typed is put on the page with textContent, never as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const PRIVATE_NAME = "Chat riêng với Bot";
  const PALETTE = ["#3b82f6", "#10b981", "#8b5cf6", "#ef4444", "#0ea5e9", "#d946ef",
    "#14b8a6", "#f59e0b", "#6366f1", "#84cc16"];

  const S = {
    info: null,        // /demo/api/state
    me: null,          // the member you are typing as
    chat: null,        // the open chat id
    lines: [],         // every line, in id order
    ids: new Set(),
    byMessageId: new Map(),
    lastId: 0,
    unread: new Map(),
    quote: null,       // the line being replied to
    offsetMs: 0,       // bot clock minus this browser's clock
  };

  // ---------- helpers ----------
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  async function api(path, body) {
    const opts = body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    };
    const resp = await fetch(path, opts);
    let data = null;
    try { data = await resp.json(); } catch (_) { /* not JSON: reported below */ }
    if (!resp.ok || !data || data.ok === false) {
      throw new Error((data && data.error) || `HTTP ${resp.status}`);
    }
    return data;
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function initials(name) {
    const words = String(name).trim().split(/\s+/).filter(Boolean);
    const pick = words.length > 1 ? [words[words.length - 2], words[words.length - 1]] : words;
    return pick.map((w) => w[0]).join("").toUpperCase();
  }

  function colour(key) {
    let h = 0;
    for (const ch of String(key)) h = (h * 31 + ch.codePointAt(0)) >>> 0;
    return PALETTE[h % PALETTE.length];
  }

  function avatar(name, key, isBot) {
    const a = el("div", isBot ? "avatar bot" : "avatar", isBot ? "BOT" : initials(name));
    if (!isBot) a.style.background = colour(key);
    a.setAttribute("aria-hidden", "true");
    return a;
  }

  function status(text, ok) {
    const s = $("status");
    s.textContent = text || "";
    s.classList.toggle("ok", Boolean(ok));
  }

  const botName = () => (S.info ? S.info.bot.name : "Bot ANTT");
  const member = (id) => S.info.members.find((m) => m.id === id);

  function chatsFor(me) {
    const groups = S.info.chats.filter((c) => c.members.includes(me.id));
    return [...groups, { id: me.id, name: PRIVATE_NAME, type: "private", members: [me.id] }];
  }

  const currentChat = () => chatsFor(S.me).find((c) => c.id === S.chat);

  // ---------- the bot's clock ----------
  function showBotTime() {
    if (!S.info) return;
    const at = new Date(Date.now() + S.offsetMs);
    let label;
    try {
      label = new Intl.DateTimeFormat("vi-VN", {
        timeZone: S.info.timezone, weekday: "short", day: "2-digit", month: "2-digit",
        year: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
      }).format(at);
    } catch (_) {
      label = at.toLocaleString();
    }
    $("bot-time").textContent = label;
  }

  function setBotNow(now) {
    if (now && typeof now.ms === "number") S.offsetMs = now.ms - Date.now();
    showBotTime();
  }

  async function jump(minutes, button, label) {
    const buttons = document.querySelectorAll(".clock-buttons button");
    buttons.forEach((b) => { b.disabled = true; });
    const where = label || `${button.textContent} sau`;
    status(`Đang đưa đồng hồ của bot tới ${where} và chạy các việc định kỳ…`, true);
    try {
      const r = await api("/demo/api/clock", { minutes });
      setBotNow(r.now);
      let msg = `Bây giờ là ${r.now.time_label} ${r.now.day_label}. `;
      msg += r.sent ? `Bot đã gửi ${r.sent} tin (xem số đỏ trên các cuộc trò chuyện).`
        : "Chưa có gì đến hạn.";
      if (r.errors.length) msg += ` Việc lỗi: ${r.errors.join(", ")}.`;
      status(msg, r.errors.length === 0);
    } catch (e) {
      status(`Không chỉnh được đồng hồ: ${e.message}`);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  // ---------- rendering ----------
  function renderWho() {
    const sel = $("who");
    sel.replaceChildren();
    for (const m of S.info.members) {
      const opt = el("option", null, `${m.name} · ${m.role_label} · ${m.enterprise}`);
      opt.value = m.id;
      sel.append(opt);
    }
    sel.value = S.me.id;
  }

  function renderChats() {
    const nav = $("chats");
    nav.replaceChildren();
    for (const c of chatsFor(S.me)) {
      const b = el("button", "chat-tab", c.name);
      b.type = "button";
      b.dataset.chat = c.id;
      b.setAttribute("aria-pressed", String(c.id === S.chat));
      const n = S.unread.get(c.id) || 0;
      if (n) {
        const badge = el("span", "badge", String(n));
        badge.setAttribute("aria-label", `${n} tin mới`);
        b.append(badge);
      }
      b.addEventListener("click", () => openChat(c.id));
      nav.append(b);
    }
  }

  function renderHeader() {
    const c = currentChat();
    $("chat-name").textContent = c.name;
    const av = $("chat-avatar");
    av.classList.toggle("bot", c.type === "private");
    av.textContent = c.type === "private" ? "BOT" : initials(c.name);
    av.style.background = c.type === "private" ? "" : colour(c.id);
    if (c.type === "private") {
      $("chat-sub").textContent = `${botName()} · trợ lý ANTT`;
      $("hint").textContent = "Chat riêng: bot đọc mọi tin bạn gửi. Thử báo sự việc, "
        + "điểm danh (\"có mặt\") hoặc gõ /huongdan.";
    } else {
      $("chat-sub").textContent = `${c.members.length} thành viên và ${botName()}`;
      $("hint").textContent = `Giống Zalo: trong nhóm, bot chỉ nhận tin có @${botName()} `
        + "hoặc tin trả lời (Trả lời) tin của bot. Các tin khác mọi người vẫn thấy, bot thì không.";
    }
    $("text").placeholder = c.type === "private" ? `Nhắn cho ${botName()}…`
      : `Nhắn tới ${c.name}…`;
  }

  function quoteBlock(line) {
    const q = S.byMessageId.get(line.quote_message_id);
    const box = el("div", "quote");
    box.append(el("b", null, q ? q.sender : "Tin nhắn"));
    box.append(el("span", null, q ? (q.text || "[Ảnh]") : "…"));
    return box;
  }

  function bubble(line) {
    const mine = !line.is_bot && line.sender_id === S.me.id;
    const row = el("div", `msg ${mine ? "mine" : line.is_bot ? "bot" : "other"}`);
    row.dataset.id = String(line.id);
    row.dataset.messageId = line.message_id;
    if (!mine) row.append(avatar(line.sender, line.sender_id, line.is_bot));
    const body = el("div", "body");
    if (!mine) {
      const who = el("div", "sender", line.sender);
      if (line.is_bot) who.append(el("span", "tag", "BOT"));
      body.append(who);
    }
    const b = el("div", "bubble");
    if (line.quote_message_id) b.append(quoteBlock(line));
    if (line.photo_url && /^(https?:\/\/|\/)/i.test(line.photo_url)) {
      const img = el("img");
      img.src = line.photo_url;
      img.alt = "Ảnh do bot gửi";
      img.loading = "lazy";
      b.append(img);
    }
    if (line.text) b.append(el("div", "text", line.text));
    body.append(b);

    const meta = el("div", "meta");
    meta.append(el("time", null, line.time_label));
    const inGroup = currentChat() && currentChat().type === "group";
    if (!line.is_bot && inGroup && line.seen_by_bot === true) {
      meta.append(el("span", "seen", "✓ Bot đã nhận"));
    } else if (!line.is_bot && inGroup && line.seen_by_bot === false) {
      meta.append(el("span", "unseen", "Bot không thấy tin này"));
    }
    const reply = el("button", "reply-btn", "Trả lời");
    reply.type = "button";
    reply.setAttribute("aria-label", `Trả lời tin của ${line.sender}`);
    reply.addEventListener("click", () => setQuote(line));
    meta.append(reply);
    body.append(meta);
    row.append(body);
    return row;
  }

  function renderMessages() {
    const box = $("messages");
    box.replaceChildren();
    let day = null;
    const mine = S.lines.filter((l) => l.chat_id === S.chat);
    for (const line of mine) {
      if (line.day_label !== day) {
        day = line.day_label;
        box.append(el("div", "day", day));
      }
      box.append(bubble(line));
    }
    if (!mine.length) {
      box.append(el("p", "empty", currentChat().type === "private"
        ? "Chưa có tin nào. Gửi lời chào tới bot hoặc chọn một bước trong Thử nhanh."
        : "Chưa có tin nào trong nhóm."));
    }
    box.scrollTop = box.scrollHeight;
  }

  function addLine(line) {
    if (S.ids.has(line.id)) return;
    S.ids.add(line.id);
    S.lines.push(line);
    S.lines.sort((a, b) => a.id - b.id);
    S.byMessageId.set(line.message_id, line);
    S.lastId = Math.max(S.lastId, line.id);
    if (line.chat_id === S.chat) return true;
    const visible = chatsFor(S.me).some((c) => c.id === line.chat_id);
    if (visible) S.unread.set(line.chat_id, (S.unread.get(line.chat_id) || 0) + 1);
    return false;
  }

  // ---------- actions ----------
  function openChat(id) {
    S.chat = id;
    S.unread.set(id, 0);
    setQuote(null);
    localStorage.setItem("antt-demo-chat", id);
    renderChats();
    renderHeader();
    renderMessages();
  }

  function becomeMember(id, chatId) {
    S.me = member(id) || S.info.members[0];
    localStorage.setItem("antt-demo-me", S.me.id);
    $("who").value = S.me.id;
    S.unread.clear();
    const chats = chatsFor(S.me);
    const wanted = chatId && chats.some((c) => c.id === chatId) ? chatId : null;
    openChat(wanted || (chats.some((c) => c.id === S.chat) ? S.chat : S.me.id));
  }

  function setQuote(line) {
    S.quote = line;
    $("reply-bar").hidden = !line;
    if (line) {
      $("reply-who").textContent = line.sender;
      $("reply-text").textContent = line.text || "[Ảnh]";
      $("text").focus();
    }
  }

  function addMention() {
    const t = $("text");
    const tag = `@${botName()} `;
    if (!t.value.includes(`@${botName()}`)) t.value = tag + t.value.trimStart();
    t.focus();
    t.setSelectionRange(t.value.length, t.value.length);
  }

  async function send(ev) {
    ev.preventDefault();
    const t = $("text");
    const text = t.value.trim();
    if (!text) return;
    $("send").disabled = true;
    try {
      const r = await api("/demo/api/send", {
        member_id: S.me.id, chat_id: S.chat, text,
        quote_message_id: S.quote ? S.quote.message_id : null,
      });
      t.value = "";
      autoGrow();
      setQuote(null);
      status(r.delivered ? "" : `Tin đã gửi vào nhóm, nhưng bot không nhận được: hãy thêm `
        + `@${botName()} hoặc bấm Trả lời trên một tin của bot.`, true);
    } catch (e) {
      status(`Chưa gửi được: ${e.message}`);
    } finally {
      $("send").disabled = false;
    }
  }

  function autoGrow() {
    const t = $("text");
    t.style.height = "auto";
    t.style.height = `${Math.min(t.scrollHeight, 120)}px`;
  }

  // ---------- the guided script ----------
  function coordinator() {
    return S.info.members.find((m) => m.role === "coordinator") || S.info.members[0];
  }
  function plainMember(enterprise) {
    return S.info.members.find((m) => m.role === "member" && m.enterprise === enterprise
      && m.private_chat) || S.info.members.find((m) => m.role === "member");
  }
  const council = () => S.info.chats.find((c) => c.kind === "council") || S.info.chats[0];

  function fill(memberId, chatId, text, quote) {
    becomeMember(memberId, chatId);
    $("text").value = text;
    autoGrow();
    if (quote) setQuote(quote);
    $("text").focus();
    $("text").setSelectionRange(text.length, text.length);
    document.querySelector(".layout").classList.remove("show-panel");
  }

  function scriptSteps() {
    const lan = plainMember("Cty May Việt");
    const tung = plainMember("Cty Điện tử Hansol");
    const boss = coordinator();
    const hall = council() || { id: boss.id, name: PRIVATE_NAME }; // a roster with no group
    const at = `@${botName()} `;
    return [
      { title: "Báo cháy ở xưởng 2", who: lan, where: PRIVATE_NAME,
        run: () => fill(lan.id, lan.id, "Cháy ở xưởng 2, khói nhiều") },
      { title: "Xem cảnh báo của điều phối viên", who: boss, where: PRIVATE_NAME,
        run: () => { becomeMember(boss.id, boss.id); } },
      { title: "Báo không dấu: bot hỏi lại trước khi báo khẩn", who: tung, where: PRIVATE_NAME,
        run: () => fill(tung.id, tung.id, "chay o kho 3") },
      { title: "Tai nạn lao động", who: lan, where: PRIVATE_NAME,
        run: () => fill(lan.id, lan.id,
          "Công nhân bị điện giật khi sửa máy ở xưởng 4, đã đưa đi cấp cứu") },
      { title: "Điểm danh: \"có mặt\"", who: tung, where: PRIVATE_NAME,
        run: () => fill(tung.id, tung.id, "có mặt") },
      { title: "Gửi thông báo cần xác nhận", who: boss, where: hall.name,
        run: () => fill(boss.id, hall.id,
          `${at}/thongbao Kiểm tra bình chữa cháy và lối thoát hiểm trước thứ Sáu`) },
      { title: "Trả lời \"đã nhận\" vào thông báo", who: lan, where: hall.name,
        run: () => {
          const last = [...S.lines].reverse().find((l) => l.chat_id === hall.id && l.is_bot);
          if (!last) {
            status("Chưa có tin nào của bot trong nhóm: làm bước /thongbao trước.");
            return;
          }
          fill(lan.id, hall.id, "đã nhận", last);
        } },
      { title: "Giao việc có hạn", who: boss, where: hall.name,
        run: () => fill(boss.id, hall.id,
          `${at}/giaoviec @${tung.name} kiểm tra camera cổng số 3 han thứ Sáu`) },
      { title: "Tin thường trong nhóm (bot không thấy)", who: tung, where: hall.name,
        run: () => fill(tung.id, hall.id, "Mọi người ăn trưa chưa?") },
      { title: "Bài tuyên truyền theo lịch: tới giờ đăng", who: null, where: "Giờ của bot",
        run: () => jumpToPost() },
      { title: "Trả lời câu hỏi của bài: \"114\"", who: lan, where: hall.name,
        run: () => {
          const post = [...S.lines].reverse().find((l) => l.chat_id === hall.id && l.is_bot
            && l.text.includes("❓"));
          if (!post) {
            status("Bài có câu hỏi chưa được đăng: làm bước \"tới giờ đăng\" trước.");
            return;
          }
          fill(lan.id, hall.id, "114", post);
        } },
      { title: "Khen gương người tốt: /khen", who: boss, where: hall.name,
        run: () => fill(boss.id, hall.id,
          `${at}/khen @${lan.name} phát hiện cháy ở xưởng 2 và báo kịp thời`) },
      { title: "Xem bảng vinh danh", who: boss, where: "Trang quản lý",
        run: () => { window.open(`${S.info.dashboard.url}honour`, "_blank"); } },
      { title: "Nhảy 1 tuần: nhắc nhở và tổng hợp tuần", who: null, where: "Giờ của bot",
        run: () => {
          document.querySelector(".layout").classList.remove("show-panel");
          const b = document.querySelector('.clock-buttons button[data-minutes="10080"]');
          jump(10080, b);
        } },
    ];
  }

  async function jumpToPost() {
    document.querySelector(".layout").classList.remove("show-panel");
    let post = null;
    try {
      post = (await api("/demo/api/state")).post;
    } catch (e) {
      status(`Không đọc được lịch đăng bài: ${e.message}`);
      return;
    }
    if (!post) {
      status("Lịch tuyên truyền chưa có bài nào.");
      return;
    }
    if (post.published) {
      status("Bài đã được đăng: xem nhóm Hội đồng.", true);
      return;
    }
    const when = new Date(post.at);
    const label = `${when.toLocaleString("vi-VN", {
      timeZone: S.info.timezone, hour: "2-digit", minute: "2-digit", day: "2-digit",
      month: "2-digit" })}, giờ đăng bài`;
    const b = document.querySelector('.clock-buttons button[data-minutes="60"]');
    await jump(post.minutes_to_publish, b, label);
  }

  function renderScript() {
    const list = $("script");
    list.replaceChildren();
    for (const step of scriptSteps()) {
      const li = el("li");
      const b = el("button", null, `Thử: ${step.title}`);
      b.type = "button";
      b.addEventListener("click", step.run);
      li.append(b);
      const who = step.who ? `${step.who.name} (${step.who.role_label}) · ` : "";
      li.append(el("small", null, `${who}${step.where}`));
      list.append(li);
    }
  }

  // ---------- start ----------
  async function poll() {
    for (;;) {
      try {
        const r = await api(`/demo/api/lines?after=${S.lastId}&wait=20`);
        let here = false;
        let other = false;
        for (const line of r.lines) {
          if (addLine(line)) here = true; else other = true;
        }
        if (here) renderMessages();
        if (other) renderChats();
        setBotNow(r.now);
        document.body.classList.remove("offline");
      } catch (e) {
        status(`Mất kết nối với bot (${e.message}); đang thử lại…`);
        document.body.classList.add("offline");
        await sleep(1500);
      }
    }
  }

  async function start() {
    try {
      S.info = await api("/demo/api/state");
    } catch (e) {
      $("chat-name").textContent = "Không tải được bản demo";
      status(e.message);
      return;
    }
    setBotNow(S.info.now);
    const saved = localStorage.getItem("antt-demo-me");
    S.me = member(saved) || plainMember("Cty May Việt") || S.info.members[0];
    S.chat = localStorage.getItem("antt-demo-chat") || S.me.id;
    if (!chatsFor(S.me).some((c) => c.id === S.chat)) S.chat = S.me.id;
    renderWho();
    renderScript();
    openChat(S.chat);
    const dash = S.info.dashboard;
    $("dashboard-link").href = dash.url;
    const users = dash.users.map((u) => `${u.id} (${u.role_label})`).join(" hoặc ");
    $("dashboard-pass").textContent = `Đăng nhập bằng mã ${users}, mật khẩu: ${dash.password}`;
    $("quiet-hours").textContent = S.info.quiet_hours || "không có";

    $("who").addEventListener("change", (e) => becomeMember(e.target.value));
    $("composer").addEventListener("submit", send);
    $("text").addEventListener("input", autoGrow);
    $("text").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) send(e);
    });
    $("mention").addEventListener("click", addMention);
    $("reply-cancel").addEventListener("click", () => setQuote(null));
    $("toggle-panel").addEventListener("click", () => {
      const layout = document.querySelector(".layout");
      const open = layout.classList.toggle("show-panel");
      $("toggle-panel").setAttribute("aria-expanded", String(open));
    });
    document.querySelectorAll(".clock-buttons button").forEach((b) => {
      b.addEventListener("click", () => jump(Number(b.dataset.minutes), b));
    });
    setInterval(showBotTime, 10000);
    poll();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
