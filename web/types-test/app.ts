// A small application written the way apps for the vendor SDK are written. It is only compiled
// (tsc --noEmit) to check that index.d.ts accepts typical code; it is never run.
import {
  Client,
  Conversation,
  ConnectionState,
  Message,
  Paginator,
  Participant,
  User,
  JSONValue,
  ContentTemplateVariable,
  NotificationTypes,
  MessageUpdatedEventArgs,
} from "@convo-sdk/conversations";
import convo from "@convo-sdk/conversations";

async function fetchToken(identity: string): Promise<string> {
  const res = await fetch("/v1/dev/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ identity }),
  });
  const { token } = (await res.json()) as { token: string };
  return token;
}

function render(message: Message): string {
  const who: string = message.author ?? "unknown";
  const text: string = message.body ?? "";
  const when: Date | null = message.dateCreated;
  return `#${message.index} ${who} ${when?.toISOString() ?? ""}: ${text}`;
}

export async function main(identity: string): Promise<void> {
  const client = new Client(await fetchToken(identity));
  const sameClass: typeof Client = convo.Client;
  void sameClass;

  let state: ConnectionState = client.connectionState;
  client.on("connectionStateChanged", (next) => {
    state = next;
    if (state === "denied") console.warn("token refused");
  });
  client.on(Client.connectionError, ({ terminal, message }) => console.warn(terminal, message));
  client.on("initFailed", ({ error }) => console.error(error?.message));
  client.on("tokenAboutToExpire", async () => {
    await client.updateToken(await fetchToken(identity));
  });
  client.once("tokenExpired", () => console.warn("expired"));
  client.on("messageAdded", (message: Message) => console.log(render(message)));
  client.on("messageUpdated", ({ message, updateReasons }: MessageUpdatedEventArgs) => {
    if (updateReasons.includes("body")) console.log("edited", render(message));
  });
  client.on("conversationJoined", (conversation: Conversation) => console.log("joined", conversation.sid));
  client.on("userUpdated", ({ user, updateReasons }) => console.log(user.identity, updateReasons));
  client.onWithReplay("connectionStateChanged", (s) => console.log("state now", s));
  client.onceWithReplay("initialized", () => console.log("ready"));

  await new Promise<void>((resolve) => client.once("initialized", resolve));
  const me: User = client.user;
  await me.updateFriendlyName(identity.toUpperCase());

  const conversation = await client.createConversation({
    friendlyName: "general",
    uniqueName: `general-${Date.now()}`,
    attributes: { topic: "anything" },
  });
  await conversation.join();
  await conversation.add("bob", { role: "guest" });

  conversation.on("typingStarted", (p: Participant) => console.log(`${p.identity} is typing`));
  conversation.on("typingEnded", (p: Participant) => console.log(`${p.identity} stopped`));
  conversation.on(Conversation.messageAdded, async (message) => {
    const unread: number = await conversation.advanceLastReadMessageIndex(message.index);
    console.log("unread", unread);
  });

  await conversation.typing();
  const index: number = await conversation.sendMessage("hello", { mood: "sunny" } as JSONValue);
  console.log("sent", index);
  const built: number | null = await conversation
    .prepareMessage()
    .setBody("with a template")
    .setContentTemplate("HX00", [new ContentTemplateVariable("name", "alice")])
    .build()
    .send();
  console.log(built);

  // Walk back through history, newest page first.
  let page: Paginator<Message> = await conversation.getMessages(30);
  const all: Message[] = [...page.items];
  while (page.hasPrevPage) {
    page = await page.prevPage();
    all.unshift(...page.items);
  }
  console.log(all.map(render).join("\n"));

  const subscribed = await client.getSubscribedConversations();
  for (const c of subscribed.items) {
    const unread: number | null = await c.getUnreadMessagesCount();
    console.log(c.friendlyName ?? c.sid, unread);
  }

  const other = await client.peekConversationBySid(conversation.sid);
  if (other.status === "notParticipating") await other.join();

  const urls = client.getTemporaryContentUrlsForMediaSids(["ME00"]);
  urls.cancel();
  const templates = await client.getContentTemplates();
  console.log(templates.length, NotificationTypes.NEW_MESSAGE, Client.version, client.version);

  client.removeAllListeners("messageAdded");
  console.log(client.listenerCount("connectionStateChanged"), client.eventNames());
  await client.shutdown();
}
