//go:build js && wasm

package jsapi

import (
	"syscall/js"

	"github.com/convo-sdk/convo/core"
)

// classes holds the installed JS classes, for wrapping Go objects on their way out.
var classes struct {
	emitter, client, conversation, message, participant, user, media, paginator, restPaginator,
	messageBuilder, unsentMessage, aggregatedReceipt, detailedReceipt, contentTemplate,
	contentVariable, pushNotification, notificationTypes, channelMetadata, emailRecipient,
	unknownRecipient, cancellablePromise *class
}

// Install builds the JS API and returns the object the loader exports: the classes and the
// version. hooks may carry `rethrow`, the loader's function wrapper that turns throw markers
// into exceptions (see rethrowing), and `setIdle` (see markLiveClients); without rethrow a
// wrapper is compiled here.
func Install(hooks js.Value) js.Value {
	if isObject(hooks) && hooks.Get("rethrow").Type() == js.TypeFunction {
		rethrower = hooks.Get("rethrow")
	}
	if isObject(hooks) && hooks.Get("setIdle").Type() == js.TypeFunction {
		setIdle = hooks.Get("setIdle")
	}
	defer markLiveClients(0)
	classes.emitter = newEmitterClass()
	classes.client = newClientClass(classes.emitter)
	classes.conversation = newConversationClass(classes.emitter)
	classes.message = newMessageClass(classes.emitter)
	classes.participant = newParticipantClass(classes.emitter)
	classes.user = newUserClass(classes.emitter)
	classes.paginator = newPaginatorClass()
	classes.restPaginator = newRestPaginatorClass()
	classes.media = newMediaClass()
	classes.messageBuilder = newMessageBuilderClass()
	classes.unsentMessage = newUnsentMessageClass()
	classes.aggregatedReceipt = newAggregatedReceiptClass()
	classes.detailedReceipt = newDetailedReceiptClass()
	classes.contentTemplate = newContentTemplateClass()
	classes.contentVariable = newContentVariableClass()
	classes.pushNotification = newPushNotificationClass()
	classes.notificationTypes = newNotificationTypesClass()
	classes.channelMetadata = newChannelMetadataClass()
	classes.emailRecipient = newEmailRecipientClass()
	classes.unknownRecipient = newUnknownRecipientClass()
	classes.cancellablePromise = newCancellablePromiseClass()

	defineClasses()
	api := jsObject.New()
	for _, c := range []*class{classes.client, classes.conversation, classes.message, classes.participant, classes.user,
		classes.paginator, classes.media, classes.messageBuilder, classes.unsentMessage, classes.aggregatedReceipt,
		classes.detailedReceipt, classes.contentTemplate, classes.contentVariable, classes.pushNotification,
		classes.channelMetadata, classes.emailRecipient, classes.unknownRecipient, classes.notificationTypes,
		classes.cancellablePromise, classes.restPaginator} {
		api.Set(c.name, c.ctor)
	}
	api.Set("ReplayEventEmitter", classes.emitter.ctor)
	api.Set("version", core.Version)
	return api
}
