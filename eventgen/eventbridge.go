package eventgen

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"time"
)

// eventBridge is events.EventBridgeEvent (events.CloudWatchEvent), keys in AWS's order.
type eventBridge struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// eventBridgeEvent is an event an application put on a bus (PutEvents) and a rule sent on to the
// function. Such events name no resources.
func eventBridgeEvent(o Options, now time.Time) (any, error) {
	w := locate(o)
	detail := json.RawMessage(`{"orderId":"1234","status":"PLACED","total":{"amount":42.5,"currency":"EUR"}}`)
	if o.Body != "" {
		// EventBridge takes only a JSON object as the detail.
		b := bytes.TrimSpace([]byte(o.Body))
		if !json.Valid(b) || b[0] != '{' {
			return nil, errors.New("body: the detail must be a JSON object")
		}
		detail = b
	}
	return eventBridge{
		Version:    "0",
		ID:         "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
		DetailType: cmp.Or(o.DetailType, "Order Placed"),
		Source:     cmp.Or(o.Source, "com.example.orders"),
		Account:    w.account,
		Time:       now.Format(isoSeconds),
		Region:     w.region,
		Resources:  []string{},
		Detail:     detail,
	}, nil
}

// scheduleEvent is what a schedule rule sends. Schedules fire on the minute, so the event's time
// is now truncated to the minute.
func scheduleEvent(o Options, now time.Time) (any, error) {
	w := locate(o)
	return eventBridge{
		Version:    "0",
		ID:         "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
		DetailType: "Scheduled Event",
		Source:     "aws.events",
		Account:    w.account,
		Time:       now.Truncate(time.Minute).Format(isoSeconds),
		Region:     w.region,
		Resources:  []string{w.arn("events", "rule/my-schedule")},
		Detail:     json.RawMessage(`{}`),
	}, nil
}
