// Type declarations for @convo-sdk/conversations.
//
// The shapes follow the public API of @twilio/conversations 3.0.1 so that an application written
// for that SDK type-checks unchanged against convo. Only the public surface is described here;
// anything the vendor marks internal is left out. The declarations assume the "dom" lib (the SDK
// targets browsers: FormData, Blob).
//
// Errors: every Promise returned by the SDK rejects with an `Error`. Errors that come from the
// convo server also carry a stable numeric `code` (see wire/errors.go in the repository).

// ---------------------------------------------------------------------------------------------
// JSON values (attributes on conversations, messages, participants and users)
// ---------------------------------------------------------------------------------------------

/** Any value that survives a JSON round trip. */
export type JSONValue = null | string | number | boolean | JSONObject | JSONArray;
/** A JSON object. */
export type JSONObject = { [key: string]: JSONValue };
/** A JSON array. */
export type JSONArray = JSONValue[];

// ---------------------------------------------------------------------------------------------
// Event emitter
// ---------------------------------------------------------------------------------------------

/** Maps event names to the listener signature for that event. */
type EventMap = { [event: string]: (...args: any[]) => void };

/**
 * The emitter shared by Client, Conversation, Message, Participant and User. It offers the
 * familiar Node-style EventEmitter methods; in addition it remembers the arguments of the most
 * recent emit of every event, which the `...WithReplay` methods hand to a new listener right away.
 */
declare class ReplayEventEmitter<Events extends EventMap> {
  /** Adds a listener for `event`. */
  on<E extends Extract<keyof Events, string>>(event: E, listener: Events[E]): this;
  /** Adds a listener that is removed after its first call. */
  once<E extends Extract<keyof Events, string>>(event: E, listener: Events[E]): this;
  /** Removes a listener added with on/once/addListener. */
  off<E extends Extract<keyof Events, string>>(event: E, listener: Events[E]): this;
  /** Same as `on`. */
  addListener<E extends Extract<keyof Events, string>>(event: E, listener: Events[E]): this;
  /** Same as `off`. */
  removeListener<E extends Extract<keyof Events, string>>(event: E, listener: Events[E]): this;
  /** Removes every listener of `event`, or of every event when no name is given. */
  removeAllListeners<E extends Extract<keyof Events, string>>(event?: E): this;
  /** Adds a listener ahead of the ones already registered for `event`. */
  prependListener<E extends Extract<keyof Events, string>>(event: E, listener: Events[E]): this;
  /** Adds a one-shot listener ahead of the ones already registered for `event`. */
  prependOnceListener<E extends Extract<keyof Events, string>>(event: E, listener: Events[E]): this;
  /** The listeners of `event`, in call order. */
  listeners<E extends Extract<keyof Events, string>>(event: E): Array<Events[E]>;
  /** Like `listeners`, but one-shot listeners are returned in their wrapped form. */
  rawListeners<E extends Extract<keyof Events, string>>(event: E): Array<Events[E]>;
  /** How many listeners `event` has (of that one listener only, when given). */
  listenerCount<E extends Extract<keyof Events, string>>(event: E, listener?: Events[E]): number;
  /** The names of the events that currently have listeners. */
  eventNames(): Array<Extract<keyof Events, string>>;
  /** Calls the listeners of `event` with `args`; true when there was at least one. */
  emit<E extends Extract<keyof Events, string>>(event: E, ...args: Parameters<Events[E]>): boolean;
  /** Sets the listener count above which a possible-leak warning is printed (0: no limit). */
  setMaxListeners(n: number): this;
  /** The current possible-leak warning threshold. */
  getMaxListeners(): number;
  /**
   * Adds a listener; if `event` has been emitted before, the listener is first called at once
   * (synchronously) with the arguments of the latest emit.
   */
  addListenerWithReplay<E extends Extract<keyof Events, string>>(event: E, listener: Events[E]): this;
  /** Same as `addListenerWithReplay`. */
  onWithReplay<E extends Extract<keyof Events, string>>(event: E, listener: Events[E]): this;
  /**
   * One-shot variant: if `event` has been emitted before, the listener is called once with the
   * latest arguments and not added; otherwise it waits for the next emit like `once`.
   */
  onceWithReplay<E extends Extract<keyof Events, string>>(event: E, listener: Events[E]): this;
}

// ---------------------------------------------------------------------------------------------
// Promises and paging
// ---------------------------------------------------------------------------------------------

/** A Promise whose underlying work can be abandoned; cancelling rejects it. */
export declare class CancellablePromise<T> extends Promise<T> {
  /**
   * @param executor receives the usual resolve and reject functions plus `onCancel`, which
   * registers what to do when `cancel()` is called.
   */
  constructor(
    executor: (
      resolve: (value: T | PromiseLike<T>) => void,
      reject: (reason?: string | Error) => void,
      onCancel: (cancellationFunction: () => void) => void,
    ) => void,
  );
  /** Runs the registered cancellation callback, if any, and rejects the promise. */
  cancel(): this;
}

/** One page of a longer list, with links to its neighbours. */
export interface Paginator<T> {
  /** True when `nextPage()` has something to return. */
  hasNextPage: boolean;
  /** True when `prevPage()` has something to return. */
  hasPrevPage: boolean;
  /** The entries of this page. For messages: in ascending index order. */
  items: T[];
  /** Fetches the following page (newer messages). */
  nextPage(): Promise<Paginator<T>>;
  /** Fetches the preceding page (older messages). */
  prevPage(): Promise<Paginator<T>>;
}

/** Page size for list calls that accept one. */
export interface PaginatorOptions {
  pageSize?: number;
}

/** The Paginator implementation used for lists fetched by request rather than kept live. */
export declare class RestPaginator<T> implements Paginator<T> {
  private constructor();
  get hasNextPage(): boolean;
  get hasPrevPage(): boolean;
  get items(): T[];
  nextPage(): Promise<RestPaginator<T>>;
  prevPage(): Promise<RestPaginator<T>>;
}

// ---------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------

/** Which User fields an `updated` event reports as changed. */
export type UserUpdateReason = "friendlyName" | "attributes" | "reachabilityOnline" | "reachabilityNotifiable";

/** Argument of User `updated` and Client `userUpdated`. */
export interface UserUpdatedEventArgs {
  user: User;
  updateReasons: UserUpdateReason[];
}

type UserEvents = {
  updated: (data: UserUpdatedEventArgs) => void;
  userSubscribed: (user: User) => void;
  userUnsubscribed: (user: User) => void;
};

/** A chat user, identified by identity. The same identity always yields the same object. */
export declare class User extends ReplayEventEmitter<UserEvents> {
  private constructor();
  /** Event name constants. */
  readonly updated: "updated";
  readonly userSubscribed: "userSubscribed";
  readonly userUnsubscribed: "userUnsubscribed";
  /** The user's identity (the token's identity claim). */
  get identity(): string;
  /** Free-form application data. */
  get attributes(): JSONValue;
  /** Display name, or null when unset. */
  get friendlyName(): string | null;
  /** Whether the user is connected; null when reachability is disabled. */
  get isOnline(): boolean | null;
  /** Whether the user can receive push notifications; null when reachability is disabled. */
  get isNotifiable(): boolean | null;
  /** Whether this client receives live updates for the user. */
  get isSubscribed(): boolean;
  /** Replaces the attributes (own user only). */
  updateAttributes(attributes: JSONValue): Promise<User>;
  /** Sets the display name (own user only). */
  updateFriendlyName(friendlyName: string): Promise<User>;
  /** Stops live updates for this user and frees its slot among the subscribed users. */
  unsubscribe(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Participants
// ---------------------------------------------------------------------------------------------

/** Which Participant fields an `updated` event reports as changed. */
export type ParticipantUpdateReason =
  | "attributes"
  | "dateCreated"
  | "dateUpdated"
  | "roleSid"
  | "lastReadMessageIndex"
  | "lastReadTimestamp"
  | "bindings";

/** How a participant takes part: chat for SDK users; the others are non-chat channels. */
export type ParticipantType = "chat" | "sms" | "whatsapp" | "email" | string;

/** Argument of Participant `updated` and the participantUpdated events. */
export interface ParticipantUpdatedEventArgs {
  participant: Participant;
  updateReasons: ParticipantUpdateReason[];
}

/** Email recipient level of a participant. */
export type ParticipantEmailLevel = "to" | "cc";

/** Email address details of an email participant. */
export interface ParticipantEmailBinding {
  name: string;
  address: string;
  level: ParticipantEmailLevel;
}

/** Channel-specific details of a participant. */
export interface ParticipantBindings {
  email?: ParticipantEmailBinding;
}

/** Extra details when adding a non-chat participant. */
export interface ParticipantBindingOptions {
  email?: ParticipantEmailBinding;
}

type ParticipantEvents = {
  typingStarted: (participant: Participant) => void;
  typingEnded: (participant: Participant) => void;
  updated: (data: ParticipantUpdatedEventArgs) => void;
};

/** A member of a conversation. */
export declare class Participant extends ReplayEventEmitter<ParticipantEvents> {
  private constructor();
  /** Event name constants. */
  static readonly typingStarted: "typingStarted";
  static readonly typingEnded: "typingEnded";
  static readonly updated: "updated";
  /** The conversation this participant belongs to. */
  readonly conversation: Conversation;
  get sid(): string;
  get attributes(): JSONValue;
  get dateCreated(): Date | null;
  get dateUpdated(): Date | null;
  /** Identity for chat participants; null for non-chat ones. */
  get identity(): string | null;
  /** True between this participant's typingStarted and typingEnded. */
  get isTyping(): boolean;
  /** Highest message index this participant has read, or null. */
  get lastReadMessageIndex(): number | null;
  /** When the read horizon last moved, or null. */
  get lastReadTimestamp(): Date | null;
  get roleSid(): string;
  get type(): ParticipantType;
  get bindings(): ParticipantBindings;
  /** The User behind a chat participant. */
  getUser(): Promise<User>;
  /** Removes this participant from the conversation. */
  remove(): Promise<void>;
  /** Replaces the participant's attributes. */
  updateAttributes(attributes: JSONValue): Promise<Participant>;
}

/** The record returned when a participant is added. */
export interface ParticipantResponse {
  account_sid: string;
  chat_service_sid: string;
  conversation_sid: string;
  role_sid: string;
  sid: string;
  attributes: string;
  date_created: string;
  date_updated: string;
  identity: string;
  messaging_binding: {
    type: "chat" | "sms" | "whatsapp" | "email";
    address: string;
    proxy_address: string;
  } | null;
  url: string;
  links: { conversation: string };
}

// ---------------------------------------------------------------------------------------------
// Media
// ---------------------------------------------------------------------------------------------

/** What a media item is for: an attachment, an email body or an email history. */
export type MediaCategory = "media" | "body" | "history";

/** An uploaded file attached to a message. */
export declare class Media {
  private constructor();
  get sid(): string;
  get filename(): string | null;
  get contentType(): string;
  /** Size in bytes. */
  get size(): number;
  get category(): MediaCategory;
  /** A short-lived URL to download the content. */
  getContentTemporaryUrl(): CancellablePromise<string | null>;
}

/** Media to upload with a message. */
export interface SendMediaOptions {
  contentType: null | string;
  filename?: string;
  media: null | string | Uint8Array | ArrayBuffer | Blob;
}

/** Email-specific fields of a message. */
export interface SendEmailOptions {
  subject?: string;
}

// ---------------------------------------------------------------------------------------------
// Delivery receipts
// ---------------------------------------------------------------------------------------------

/** How many recipients reached a delivery state. */
export type DeliveryAmount = "none" | "some" | "all";

/** Delivery state of one message for one recipient. */
export type DeliveryStatus = "sent" | "delivered" | "failed" | "read" | "undelivered" | "queued";

/** Summary of a message's delivery across non-chat recipients. */
export declare class AggregatedDeliveryReceipt {
  private constructor();
  /** Number of recipients. */
  get total(): number;
  get sent(): DeliveryAmount;
  get delivered(): DeliveryAmount;
  get read(): DeliveryAmount;
  get undelivered(): DeliveryAmount;
  get failed(): DeliveryAmount;
}

/** Delivery of a message to one recipient. */
export declare class DetailedDeliveryReceipt {
  private constructor();
  sid: string;
  messageSid: string;
  conversationSid: string;
  channelMessageSid: string;
  participantSid: string;
  status: DeliveryStatus;
  /** Error code for failed deliveries; 0 when none. */
  errorCode: string | 0;
  /** ISO 8601 timestamp. */
  dateCreated: string;
  /** ISO 8601 timestamp. */
  dateUpdated: string;
}

// ---------------------------------------------------------------------------------------------
// Content templates (rich messages)
// ---------------------------------------------------------------------------------------------

export type ContentDataReply = {
  readonly title: string;
  readonly id?: string;
};
export type ContentDataActionUrl = {
  readonly type: "url";
  readonly title: string;
  readonly url: string;
  readonly rawData: string;
};
export type ContentDataActionPhone = {
  readonly type: "phone";
  readonly title: string;
  readonly phone: string;
  readonly rawData: string;
};
export type ContentDataActionReply = {
  readonly type: "reply";
  readonly title: string;
  readonly id?: string;
  readonly index: number;
  readonly rawData: string;
};
export type ContentDataActionOther = {
  readonly type: "other";
  readonly rawData: string;
};
export type ContentDataAction =
  | ContentDataActionUrl
  | ContentDataActionPhone
  | ContentDataActionReply
  | ContentDataActionOther;
export type ContentDataListItem = {
  readonly id: string;
  readonly item: string;
  readonly description?: string;
};
export type ContentDataText = {
  readonly type: "text";
  readonly body: string;
  readonly rawData: string;
};
export type ContentDataMedia = {
  readonly type: "media";
  readonly body?: string;
  readonly media: string[];
  readonly rawData: string;
};
export type ContentDataLocation = {
  readonly type: "location";
  readonly longitude: number;
  readonly latitude: number;
  readonly label?: string;
  readonly rawData: string;
};
export type ContentDataQuickReply = {
  readonly type: "quickReply";
  readonly body: string;
  readonly replies: ContentDataReply[];
  readonly rawData: string;
};
export type ContentDataCallToAction = {
  readonly type: "callToAction";
  readonly body: string;
  readonly actions: ContentDataAction[];
  readonly rawData: string;
};
export type ContentDataListPicker = {
  readonly type: "listPicker";
  readonly body: string;
  readonly button: string;
  readonly items: ContentDataListItem[];
  readonly rawData: string;
};
export type ContentDataCard = {
  readonly type: "card";
  readonly title: string;
  readonly subtitle?: string;
  readonly media: string[];
  readonly actions: ContentDataAction[];
  readonly rawData: string;
};
export type ContentDataOther = {
  readonly type: "other";
  readonly rawData: string;
};
/** The structured content of a template-based message, by kind. */
export type ContentData =
  | ContentDataText
  | ContentDataMedia
  | ContentDataLocation
  | ContentDataQuickReply
  | ContentDataCallToAction
  | ContentDataListPicker
  | ContentDataCard
  | ContentDataOther;

/** A named placeholder of a content template, with a value. */
export declare class ContentTemplateVariable {
  readonly name: string;
  readonly value: string;
  constructor(name: string, value: string);
  /** A new variable with the same name and the given value. */
  copyWithValue(value: string): ContentTemplateVariable;
}

/** A reusable rich message layout. */
export declare class ContentTemplate {
  private constructor();
  readonly sid: string;
  readonly friendlyName: string;
  /** Placeholders with their default values. */
  readonly variables: ContentTemplateVariable[];
  /** Content per kind, keyed by kind name. */
  readonly variants: Map<string, ContentData>;
  readonly dateCreated: Date;
  readonly dateUpdated: Date;
}

// ---------------------------------------------------------------------------------------------
// Channel metadata and recipients
// ---------------------------------------------------------------------------------------------

/** Channel-specific data stored with a message. */
export declare class ChannelMetadata {
  private constructor();
  readonly type: string;
  readonly data: unknown;
}

/** Address level of an email recipient. */
export type EmailRecipientLevel = "to" | "from" | "cc";

/** An email recipient of a message. */
export declare class EmailRecipientDescriptor {
  private constructor();
  readonly type: "email";
  readonly messageSid: string;
  readonly level: EmailRecipientLevel;
  readonly name: string;
  readonly address: string;
}

/** A recipient of a kind this SDK version does not model; `rawData` holds it as JSON text. */
export declare class UnknownRecipientDescriptor {
  private constructor();
  readonly type: string;
  readonly messageSid: string;
  readonly rawData: string;
}

/** Any message recipient. */
export type RecipientDescriptor = EmailRecipientDescriptor | UnknownRecipientDescriptor;

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/** Which Message fields an `updated` event reports as changed. */
export type MessageUpdateReason =
  | "body"
  | "lastUpdatedBy"
  | "dateCreated"
  | "dateUpdated"
  | "attributes"
  | "author"
  | "deliveryReceipt"
  | "subject"
  | "media";

/** Whether a message carries text or media. */
export type MessageType = "text" | "media";

/** Argument of Message `updated` and the messageUpdated events. */
export interface MessageUpdatedEventArgs {
  message: Message;
  updateReasons: MessageUpdateReason[];
}

type MessageEvents = {
  updated: (data: MessageUpdatedEventArgs) => void;
};

/** A message in a conversation. */
export declare class Message extends ReplayEventEmitter<MessageEvents> {
  private constructor();
  /** Event name constant. */
  static readonly updated: "updated";
  /** The conversation the message belongs to. */
  readonly conversation: Conversation;
  get sid(): string;
  /** Identity of the sender, or null. */
  get author(): string | null;
  /** Email subject, or null. */
  get subject(): string | null;
  /** Content template sid for template-based messages, or null. */
  get contentSid(): string | null;
  /** Text of the message, or null. */
  get body(): string | null;
  get dateUpdated(): Date | null;
  /** Position in the conversation; grows with every message, possibly with gaps. */
  get index(): number;
  get lastUpdatedBy(): string | null;
  get dateCreated(): Date | null;
  get attributes(): JSONValue;
  get type(): MessageType;
  /** The first attachment, or null. Prefer `attachedMedia`. */
  get media(): Media | null;
  /** All attachments, or null. */
  get attachedMedia(): Array<Media> | null;
  /** Sid of the sending participant, or null. */
  get participantSid(): string | null;
  /** Delivery summary for non-chat recipients, or null. */
  get aggregatedDeliveryReceipt(): AggregatedDeliveryReceipt | null;
  /** Attachments in any of the given categories. */
  getMediaByCategory(categories: Array<MediaCategory>): Array<Media> | null;
  /** Attachments in any of the given categories. */
  getMediaByCategories(categories: MediaCategory[]): Media[] | null;
  /** The email body of the given content type (default text/plain), or null. */
  getEmailBody(type?: string): Media | null;
  /** The email history of the given content type (default text/plain), or null. */
  getEmailHistory(type?: string): Media | null;
  /** The participant who sent the message. */
  getParticipant(): Promise<Participant>;
  /** Per-recipient delivery receipts. */
  getDetailedDeliveryReceipts(): Promise<DetailedDeliveryReceipt[]>;
  /** Deletes the message. */
  remove(): Promise<Message>;
  /** Replaces the text. */
  updateBody(body: string): Promise<Message>;
  /** Replaces the attributes. */
  updateAttributes(attributes: JSONValue): Promise<Message>;
  /** Fetches download URLs for the given media (all attachments when null). */
  attachTemporaryUrlsFor(contentSet: Media[] | null): Promise<Media[]>;
  /** Download URLs keyed by media sid. */
  getTemporaryContentUrlsForMedia(contentSet: Media[]): CancellablePromise<Map<string, string>>;
  /** Download URLs keyed by media sid. */
  getTemporaryContentUrlsForMediaSids(mediaSids: string[]): CancellablePromise<Map<string, string>>;
  /** Download URLs for every attachment, keyed by media sid. */
  getTemporaryContentUrlsForAttachedMedia(): CancellablePromise<Map<string, string>>;
  /** The structured content of a template-based message, or null. */
  getContentData(): CancellablePromise<ContentData | null>;
  /** Channel-specific data of the message, or null. */
  getChannelMetadata(): Promise<ChannelMetadata | null>;
  /** The message's non-chat recipients. */
  getMessageRecipients(): Promise<RecipientDescriptor[]>;
}

/** A message that has been composed with a MessageBuilder but not sent yet. */
export declare class UnsentMessage {
  private constructor();
  text?: string;
  attributes: JSONValue;
  mediaContent: [MediaCategory, FormData | SendMediaOptions][];
  emailOptions: SendEmailOptions;
  contentSid?: string;
  contentVariables?: ContentTemplateVariable[];
  /** Sends the message; resolves with its index. */
  send(): CancellablePromise<number | null>;
}

/** Composes a message step by step; obtained from `Conversation.prepareMessage()`. */
export declare class MessageBuilder {
  private constructor();
  setBody(text: string): MessageBuilder;
  setSubject(subject: string): MessageBuilder;
  setAttributes(attributes: JSONValue): MessageBuilder;
  setEmailBody(contentType: string, body: FormData | SendMediaOptions): MessageBuilder;
  setEmailHistory(contentType: string, history: FormData | SendMediaOptions): MessageBuilder;
  setContentTemplate(contentSid: string, contentVariables?: ContentTemplateVariable[]): MessageBuilder;
  addMedia(payload: FormData | SendMediaOptions): MessageBuilder;
  /** The composed message, ready to `send()`. */
  build(): UnsentMessage;
  /** Builds and sends in one go; resolves with the message index. */
  buildAndSend(): CancellablePromise<number | null>;
}

// ---------------------------------------------------------------------------------------------
// Conversations
// ---------------------------------------------------------------------------------------------

/** Which Conversation fields an `updated` event reports as changed. */
export type ConversationUpdateReason =
  | "attributes"
  | "createdBy"
  | "dateCreated"
  | "dateUpdated"
  | "friendlyName"
  | "lastReadMessageIndex"
  | "state"
  | "status"
  | "uniqueName"
  | "lastMessage"
  | "notificationLevel"
  | "bindings";

/** Whether the current user is a participant. */
export type ConversationStatus = "notParticipating" | "joined";

/** Push notification preference of the current user for a conversation. */
export type NotificationLevel = "default" | "muted";

/** Lifecycle state of a conversation. */
export interface ConversationState {
  current: "active" | "inactive" | "closed";
  dateUpdated: Date;
}

/** Argument of Conversation `updated` and Client `conversationUpdated`. */
export interface ConversationUpdatedEventArgs {
  conversation: Conversation;
  updateReasons: ConversationUpdateReason[];
}

export interface ConversationEmailBinding {
  name?: string;
  projected_address: string;
}

export interface ConversationSmsBinding {
  address?: string;
}

/** Channel-specific addresses of a conversation. */
export interface ConversationBindings {
  email?: ConversationEmailBinding;
  sms?: ConversationSmsBinding;
}

/** Index and time of the newest message. */
export interface LastMessage {
  index?: number;
  dateCreated?: Date;
}

/** Attachment limits that apply to messages in a conversation. */
export interface ConversationLimits {
  mediaAttachmentsCountLimit: number;
  mediaAttachmentSizeLimitInMb: number;
  mediaAttachmentsTotalSizeLimitInMb: number;
  emailHistoriesAllowedContentTypes: string[];
  emailBodiesAllowedContentTypes: string[];
}

type ConversationEvents = {
  participantJoined: (participant: Participant) => void;
  participantLeft: (participant: Participant) => void;
  participantUpdated: (data: ParticipantUpdatedEventArgs) => void;
  messageAdded: (message: Message) => void;
  messageRemoved: (message: Message) => void;
  messageUpdated: (data: MessageUpdatedEventArgs) => void;
  typingEnded: (participant: Participant) => void;
  typingStarted: (participant: Participant) => void;
  updated: (data: ConversationUpdatedEventArgs) => void;
  removed: (conversation: Conversation) => void;
};

/** A conversation. The same sid always yields the same object. */
export declare class Conversation extends ReplayEventEmitter<ConversationEvents> {
  private constructor();
  /** Event name constants. */
  static readonly participantJoined: "participantJoined";
  static readonly participantLeft: "participantLeft";
  static readonly participantUpdated: "participantUpdated";
  static readonly messageAdded: "messageAdded";
  static readonly messageRemoved: "messageRemoved";
  static readonly messageUpdated: "messageUpdated";
  static readonly typingEnded: "typingEnded";
  static readonly typingStarted: "typingStarted";
  static readonly updated: "updated";
  static readonly removed: "removed";

  readonly sid: string;
  get uniqueName(): string | null;
  get status(): ConversationStatus;
  get friendlyName(): string | null;
  get dateUpdated(): Date | null;
  get dateCreated(): Date | null;
  /** Identity of the creator. */
  get createdBy(): string;
  get attributes(): JSONValue;
  /** The current user's read horizon; null until first set. */
  get lastReadMessageIndex(): number | null;
  get lastMessage(): LastMessage | undefined;
  get notificationLevel(): NotificationLevel;
  get bindings(): ConversationBindings;
  get limits(): ConversationLimits;
  get state(): ConversationState | undefined;

  /** Adds a chat participant by identity. */
  add(identity: string, attributes?: JSONValue): Promise<ParticipantResponse>;
  /** Adds an SMS, WhatsApp or email participant. */
  addNonChatParticipant(
    proxyAddress: string,
    address: string,
    attributes?: JSONValue,
    bindingOptions?: ParticipantBindingOptions,
  ): Promise<ParticipantResponse>;
  /** Moves the read horizon forward only; resolves with the unread count. */
  advanceLastReadMessageIndex(index: number): Promise<number>;
  /** Deletes the conversation for everyone. */
  delete(): Promise<Conversation>;
  getAttributes(): Promise<JSONValue>;
  /**
   * A page of messages. Defaults: 30 per page, anchored at the newest message, going backwards.
   * Items are in ascending index order; `prevPage()` goes to older messages.
   */
  getMessages(pageSize?: number, anchor?: number, direction?: "backwards" | "forward"): Promise<Paginator<Message>>;
  getParticipants(): Promise<Participant[]>;
  getParticipantsCount(): Promise<number>;
  getParticipantBySid(participantSid: string): Promise<Participant | null>;
  getParticipantByIdentity(identity?: string | null): Promise<Participant | null>;
  getMessagesCount(): Promise<number>;
  /** Messages after the read horizon; null when the horizon has never been set. */
  getUnreadMessagesCount(): Promise<number | null>;
  /** Makes the current user a participant. */
  join(): Promise<Conversation>;
  /** Removes the current user from the participants. */
  leave(): Promise<Conversation>;
  /** Removes a participant, given as object or as identity. */
  removeParticipant(participant: string | Participant): Promise<void>;
  /** Sends a message; resolves with its index. */
  sendMessage(
    message: null | string | FormData | SendMediaOptions,
    messageAttributes?: JSONValue,
    emailOptions?: SendEmailOptions,
  ): Promise<number>;
  /** Starts composing a message with attachments, subject or template. */
  prepareMessage(): MessageBuilder;
  /** Marks everything read; resolves with the unread count (0). */
  setAllMessagesRead(): Promise<number>;
  /** Resets the read horizon; resolves with the unread count. */
  setAllMessagesUnread(): Promise<number>;
  setUserNotificationLevel(notificationLevel: NotificationLevel): Promise<void>;
  /** Tells the other participants the current user is typing (rate-limited internally). */
  typing(): Promise<void>;
  updateAttributes(attributes: JSONValue): Promise<Conversation>;
  updateFriendlyName(friendlyName: string): Promise<Conversation>;
  /** Sets the read horizon (may move back); resolves with the unread count. */
  updateLastReadMessageIndex(index: number | null): Promise<number>;
  updateUniqueName(uniqueName: string | null): Promise<Conversation>;
  /** Non-chat recipients of the conversation's messages. */
  getMessageRecipients(options?: PaginatorOptions): Promise<Paginator<RecipientDescriptor>>;
}

// ---------------------------------------------------------------------------------------------
// Push notifications
// ---------------------------------------------------------------------------------------------

export type PushNotificationType =
  | "twilio.conversations.new_message"
  | "twilio.conversations.added_to_conversation"
  | "twilio.conversations.removed_from_conversation";

/** Raw form of a push notification. */
export interface PushNotificationDescriptor {
  title: string | null;
  body: string | null;
  sound: string | null;
  badge: number | null;
  action: string | null;
  type: PushNotificationType;
  data: Record<string, unknown>;
}

/** Conversation details carried by a push notification. */
export interface PushNotificationData {
  conversationSid?: string;
  conversationTitle?: string;
  messageIndex?: number;
  messageSid?: string;
  media?: Media;
  mediaCount?: number;
}

/** A parsed push notification. */
export declare class PushNotification {
  private constructor();
  readonly title: string | null;
  readonly body: string | null;
  readonly sound: string | null;
  readonly badge: number | null;
  readonly action: string | null;
  readonly type: PushNotificationType;
  readonly data: PushNotificationData;
}

/** Notification type names, for push registration filters. */
export declare class NotificationTypes {
  private constructor();
  static readonly TYPING_INDICATOR: "twilio.ipmsg.typing_indicator";
  static readonly NEW_MESSAGE: "twilio.conversations.new_message";
  static readonly ADDED_TO_CONVERSATION: "twilio.conversations.added_to_conversation";
  static readonly REMOVED_FROM_CONVERSATION: "twilio.conversations.removed_from_conversation";
  static readonly CONSUMPTION_UPDATE: "twilio.channel.consumption_update";
}

/** Push channel kinds. */
export type NotificationsChannelType = "twilsock" | "apn" | "fcm";

/** Which notification types a client registers for at start-up. */
export interface InitRegistration {
  product: string;
  type: string;
  notification_protocol_version: number;
  message_types: string[];
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

/**
 * State of the connection to the server. It starts as "unknown"; "retrying" is not emitted by
 * convo but kept for compatibility.
 */
export type ConnectionState =
  | "unknown"
  | "connecting"
  | "connected"
  | "disconnecting"
  | "disconnected"
  | "retrying"
  | "denied"
  | "error";

/** Outcome of client initialisation, reported by the deprecated `stateChanged` event. */
export type State = "failed" | "initialized";

/** Details of a connection problem. `terminal` means the client gives up. */
export type ConnectionError = {
  terminal: boolean;
  message: string;
};

/** Log verbosity. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "silent";

/**
 * Client options. Without options the client connects to the server named in the token. Options
 * that only make sense for the vendor's cloud are accepted and ignored.
 */
export interface ClientOptions {
  logLevel?: LogLevel;
  /**
   * convo: keep the client's state (conversations, participants, recent messages, followed
   * users, stream position and unsent messages) in IndexedDB across reloads, so a returning
   * page is initialised at once and reads work offline. Default `true`; `false` keeps
   * everything in memory, as the vendor SDK does.
   */
  persistence?: boolean;
  /** convo: WebSocket URL of the server, overriding the one carried in the token. */
  websocketUrl?: string;
  /** Milliseconds of silence after which a remote typist's `typingEnded` fires. */
  typingIndicatorTimeoutOverride?: number;
  /** Maximum number of users kept subscribed at once. */
  userInfosToSubscribeOverride?: number;
  /** Reconnect backoff, e.g. `{ min: 1000, max: 120000 }` (milliseconds). */
  backoffConfigOverride?: Record<string, unknown>;
  retryWhenThrottledOverride?: boolean;
  consumptionReportIntervalOverride?: string;
  httpCacheIntervalOverride?: string;
  channelMetadataCacheCapacity?: number;
  messageRecipientsCacheCapacity?: number;
  region?: string;
  productId?: string;
  clientMetadata?: Record<string, unknown>;
  initRegistrations?: InitRegistration[];
  disableDeepClone?: boolean;
  throwErrorsAlways?: boolean;
  typingUri?: string;
  apiUri?: string;
  Chat?: ClientOptions;
  IPMessaging?: ClientOptions;
  Sync?: Record<string, unknown>;
  Notification?: Record<string, unknown>;
  Twilsock?: Record<string, unknown>;
  /** Vendor-internal injection points; ignored by convo. */
  twilsockClient?: unknown;
  transport?: unknown;
  notificationsClient?: unknown;
  syncClient?: unknown;
}

/** convo extension: a message send not yet acknowledged (`Client.getPendingMessages`). */
export interface PendingMessage {
  readonly conversationSid: string;
  readonly body: string | null;
  readonly attributes: JSONValue;
  readonly mediaSids: string[];
  /** The key that makes the send apply once, however often it is written. */
  readonly idempotencyKey: string;
  /** Made by an earlier page (before a reload): nothing awaits it here. */
  readonly fromEarlierSession: boolean;
  /** Attachments still to upload before the send goes (`mediaSids` are those uploaded). */
  readonly files: ReadonlyArray<{ readonly contentType: string; readonly filename: string; readonly category: string; readonly size: number }>;
}

/** Arguments of `Client.createConversation`. */
export interface CreateConversationOptions {
  attributes?: JSONValue;
  friendlyName?: string;
  uniqueName?: string;
  access?: string;
}

type ClientEvents = {
  conversationAdded: (conversation: Conversation) => void;
  conversationJoined: (conversation: Conversation) => void;
  conversationLeft: (conversation: Conversation) => void;
  conversationRemoved: (conversation: Conversation) => void;
  conversationUpdated: (data: ConversationUpdatedEventArgs) => void;
  participantJoined: (participant: Participant) => void;
  participantLeft: (participant: Participant) => void;
  participantUpdated: (data: ParticipantUpdatedEventArgs) => void;
  messageAdded: (message: Message) => void;
  messageRemoved: (message: Message) => void;
  messageUpdated: (data: MessageUpdatedEventArgs) => void;
  tokenAboutToExpire: () => void;
  tokenExpired: () => void;
  typingEnded: (participant: Participant) => void;
  typingStarted: (participant: Participant) => void;
  pushNotification: (pushNotification: PushNotification) => void;
  userSubscribed: (user: User) => void;
  userUnsubscribed: (user: User) => void;
  userUpdated: (data: UserUpdatedEventArgs) => void;
  stateChanged: (state: State) => void;
  initialized: () => void;
  initFailed: (data: { error?: ConnectionError }) => void;
  connectionStateChanged: (state: ConnectionState) => void;
  connectionError: (data: ConnectionError) => void;
};

/**
 * Entry point of the SDK. `new Client(token)` starts connecting at once; listen for `initialized`
 * (or `initFailed`) before relying on state. Methods called earlier wait for initialisation.
 */
export declare class Client extends ReplayEventEmitter<ClientEvents> {
  /** Event name constants. */
  static readonly conversationAdded: "conversationAdded";
  static readonly conversationJoined: "conversationJoined";
  static readonly conversationLeft: "conversationLeft";
  static readonly conversationRemoved: "conversationRemoved";
  static readonly conversationUpdated: "conversationUpdated";
  static readonly participantJoined: "participantJoined";
  static readonly participantLeft: "participantLeft";
  static readonly participantUpdated: "participantUpdated";
  static readonly messageAdded: "messageAdded";
  static readonly messageRemoved: "messageRemoved";
  static readonly messageUpdated: "messageUpdated";
  static readonly tokenAboutToExpire: "tokenAboutToExpire";
  static readonly tokenExpired: "tokenExpired";
  static readonly typingEnded: "typingEnded";
  static readonly typingStarted: "typingStarted";
  static readonly pushNotification: "pushNotification";
  static readonly userSubscribed: "userSubscribed";
  static readonly userUnsubscribed: "userUnsubscribed";
  static readonly userUpdated: "userUpdated";
  static readonly stateChanged: "stateChanged";
  static readonly initialized: "initialized";
  static readonly initFailed: "initFailed";
  static readonly connectionStateChanged: "connectionStateChanged";
  static readonly connectionError: "connectionError";

  /** SDK version. */
  static readonly version: string;
  /** SDK version. */
  readonly version: string;
  /** Current connection state; "unknown" right after construction. */
  connectionState: ConnectionState;

  /**
   * Creates a client and starts connecting.
   * @param token access token from the application's backend
   * @param options optional settings
   */
  constructor(token: string, options?: ClientOptions | null);

  /**
   * Creates a client and resolves once it is initialised.
   * @deprecated use `new Client(token)` and the `initialized` event.
   */
  static create(token: string, options?: ClientOptions | null): Promise<Client>;
  /** Turns a raw push payload into a PushNotification. */
  static parsePushNotification(notificationPayload: any): PushNotification;
  /** Adds this SDK's notification types to a registration. */
  static populateInitRegistrations(reg: InitRegistration): void;

  /** The current user. */
  get user(): User;
  /** Whether online/notifiable status of users is tracked. */
  get reachabilityEnabled(): boolean;
  /** The access token in use. */
  get token(): string;
  /** Same as the static `Client.parsePushNotification`. */
  parsePushNotification: typeof Client.parsePushNotification;

  /** Disconnects and releases everything; the client cannot be used afterwards. */
  shutdown(): Promise<void>;
  /**
   * convo extension: shuts the client down and deletes its local store (IndexedDB) of this
   * server and identity, for log-out. The next `new Client` of this identity starts from the
   * server. Sends still pending are deleted with it.
   */
  eraseLocalStore(): Promise<void>;
  /**
   * convo extension: the message sends not yet acknowledged by the server, in the order they
   * go out. After a reload they include what the earlier page left (`fromEarlierSession`);
   * each leaves the list when it is delivered, which `messageAdded` announces.
   */
  getPendingMessages(): Promise<PendingMessage[]>;
  /** Replaces the access token on the live connection (same identity required). */
  updateToken(token: string): Promise<Client>;
  /** A conversation the current user participates in. */
  getConversationBySid(conversationSid: string): Promise<Conversation>;
  /** A conversation the current user may see but need not participate in (e.g. to join it). */
  peekConversationBySid(conversationSid: string): Promise<Conversation>;
  getConversationByUniqueName(uniqueName: string): Promise<Conversation>;
  /** The conversations the current user participates in, page by page. */
  getSubscribedConversations(): Promise<Paginator<Conversation>>;
  /** Creates a conversation. The creator is not a participant until it joins. */
  createConversation(options?: CreateConversationOptions): Promise<Conversation>;
  setPushRegistrationId(channelType: NotificationsChannelType, registrationId: string): Promise<void>;
  unsetPushRegistrationId(channelType: NotificationsChannelType): Promise<void>;
  removePushRegistrations(channelType: NotificationsChannelType, registrationId: string): Promise<void>;
  /** Feeds a push payload received by the application into the client. */
  handlePushNotification(notificationPayload: any): Promise<void>;
  /** A user by identity; subscribes to its updates. */
  getUser(identity: string): Promise<User>;
  /** Users currently subscribed to (at most 100). */
  getSubscribedUsers(): Promise<Array<User>>;
  /** Download URLs keyed by media sid. */
  getTemporaryContentUrlsForMediaSids(mediaSids: string[]): CancellablePromise<Map<string, string>>;
  /** Download URLs keyed by media sid. */
  getTemporaryContentUrlsForMedia(contentSet: Media[]): CancellablePromise<Map<string, string>>;
  /** Content templates available to the application. */
  getContentTemplates(): Promise<Readonly<ContentTemplate[]>>;
}

/** Version of the convo SDK (same as `Client.version`). */
export declare const version: string;

/** All runtime exports in one object, for `import convo from "@convo-sdk/conversations"`. */
declare const convo: {
  readonly Client: typeof Client;
  readonly Conversation: typeof Conversation;
  readonly Message: typeof Message;
  readonly Participant: typeof Participant;
  readonly User: typeof User;
  readonly Media: typeof Media;
  readonly RestPaginator: typeof RestPaginator;
  readonly MessageBuilder: typeof MessageBuilder;
  readonly UnsentMessage: typeof UnsentMessage;
  readonly AggregatedDeliveryReceipt: typeof AggregatedDeliveryReceipt;
  readonly DetailedDeliveryReceipt: typeof DetailedDeliveryReceipt;
  readonly ContentTemplate: typeof ContentTemplate;
  readonly ContentTemplateVariable: typeof ContentTemplateVariable;
  readonly PushNotification: typeof PushNotification;
  readonly ChannelMetadata: typeof ChannelMetadata;
  readonly EmailRecipientDescriptor: typeof EmailRecipientDescriptor;
  readonly UnknownRecipientDescriptor: typeof UnknownRecipientDescriptor;
  readonly NotificationTypes: typeof NotificationTypes;
  readonly CancellablePromise: typeof CancellablePromise;
  readonly version: string;
};
export default convo;
