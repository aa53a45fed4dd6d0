// Package jsapi is convo's JavaScript face: it turns core's objects into JS classes whose
// shape matches the @twilio/conversations 3.0.1 client, Go errors into rejected Promises with
// a numeric code, and core events into calls of JS listeners. It builds only for js/wasm;
// all logic it calls lives in core and is tested natively.
package jsapi
