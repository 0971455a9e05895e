package eventgen

import (
	"cmp"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// sqsRecords is events.SQSEvent.
type sqsRecords struct {
	Records []sqsMessage `json:"Records"`
}

// sqsMessage is events.SQSMessage, keys in AWS's order.
type sqsMessage struct {
	MessageID         string            `json:"messageId"`
	ReceiptHandle     string            `json:"receiptHandle"`
	Body              string            `json:"body"`
	Attributes        map[string]string `json:"attributes"`
	MessageAttributes map[string]any    `json:"messageAttributes"`
	MD5OfBody         string            `json:"md5OfBody"`
	EventSource       string            `json:"eventSource"`
	EventSourceARN    string            `json:"eventSourceARN"`
	AWSRegion         string            `json:"awsRegion"`
}

// sqsEvent is a batch of one message, as the event source mapping delivers it. md5OfBody is the
// body's real MD5, so that a handler that checks it passes. A FIFO queue adds the group,
// deduplication id (content-based: the body's SHA-256) and sequence number.
func sqsEvent(o Options, now time.Time) (any, error) {
	w := locate(o)
	queue := cmp.Or(o.Queue, "my-queue")
	body := cmp.Or(o.Body, "Test message.")
	sum := md5.Sum([]byte(body))
	sent := now.UnixMilli()
	attrs := map[string]string{
		"ApproximateReceiveCount": "1",
		"SentTimestamp":           strconv.FormatInt(sent, 10),
		"SenderId":                "AIDAIENQZJOLO23YVJ4VO",
		// The poller receives the message a moment after it was sent.
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(sent+2, 10),
	}
	if strings.HasSuffix(queue, ".fifo") {
		dedup := sha256.Sum256([]byte(body))
		attrs["MessageGroupId"] = "1"
		attrs["MessageDeduplicationId"] = hex.EncodeToString(dedup[:])
		attrs["SequenceNumber"] = "18849496460467696128"
	}
	return sqsRecords{Records: []sqsMessage{{
		MessageID:         "059f36b4-87a3-44ab-83d2-661975830a7d",
		ReceiptHandle:     "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a+8pZ4O+R3MMVe7E3dW0+u9w4mQxY3exiKQN1i6Ctg8TCCi9+VGh6zJXaj3vVVZs7KyXRDEKvGwu6mCXxfYnlD5XrDR3wfOvmhakNkP8pbVP51h1w3Gx2YBUIn5gKkLSz3YL5kTgCqDHbOSX4ZvyDfa2cymBgpBYgmj0s7fPEBiSEvNNxAuZQkfxX3zqS6E/FvQv3GD47OPqQXg54lw4JRYChm5vf2fIv+2NwZRNYEwL5kc0yI2UTdOPEjjnxHSFkI1ZiHnxd6vCMNdNZQ6kyxAYCe5LQvmKX/Rvp1JuLJrw9jkjR5RPJSh6NNxOCq/CUeuRy7yt2+XlWgOIWGBswk5HnPwHvlRoR2gRLz6/t9YOXUuFsi8i6ZQ3GPqe2YHlDFmkP8DQ3Wmg2gCJCvr3xo99zTAoeeaR+QHPFqjnhQ==",
		Body:              body,
		Attributes:        attrs,
		MessageAttributes: map[string]any{},
		MD5OfBody:         hex.EncodeToString(sum[:]),
		EventSource:       "aws:sqs",
		EventSourceARN:    w.arn("sqs", queue),
		AWSRegion:         w.region,
	}}}, nil
}

// snsRecords is events.SNSEvent.
type snsRecords struct {
	Records []snsRecord `json:"Records"`
}

// snsRecord is events.SNSEventRecord, keys in AWS's order.
type snsRecord struct {
	EventVersion         string    `json:"EventVersion"`
	EventSubscriptionArn string    `json:"EventSubscriptionArn"`
	EventSource          string    `json:"EventSource"`
	Sns                  snsEntity `json:"Sns"`
}

// snsEntity is events.SNSEntity, keys in AWS's order.
type snsEntity struct {
	SignatureVersion  string         `json:"SignatureVersion"`
	Timestamp         string         `json:"Timestamp"`
	Signature         string         `json:"Signature"`
	SigningCertURL    string         `json:"SigningCertUrl"`
	MessageID         string         `json:"MessageId"`
	Message           string         `json:"Message"`
	MessageAttributes map[string]any `json:"MessageAttributes"`
	Type              string         `json:"Type"`
	UnsubscribeURL    string         `json:"UnsubscribeUrl"`
	TopicArn          string         `json:"TopicArn"`
	Subject           *string        `json:"Subject"`
}

// snsEvent is one notification delivered to a Lambda subscription. A message published without
// a subject has "Subject": null, which is what most handlers get.
func snsEvent(o Options, now time.Time) (any, error) {
	w := locate(o)
	topicArn := w.arn("sns", cmp.Or(o.Topic, "my-topic"))
	subscription := topicArn + ":21be56ed-a058-49f5-8c98-aedd2564c486"
	endpoint := "https://sns." + w.region + "." + w.domain
	return snsRecords{Records: []snsRecord{{
		EventVersion:         "1.0",
		EventSubscriptionArn: subscription,
		EventSource:          "aws:sns",
		Sns: snsEntity{
			SignatureVersion:  "1",
			Timestamp:         now.Format(isoMillis),
			Signature:         "tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
			SigningCertURL:    endpoint + "/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem",
			MessageID:         "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
			Message:           cmp.Or(o.Body, "Hello from SNS!"),
			MessageAttributes: map[string]any{},
			Type:              "Notification",
			UnsubscribeURL:    endpoint + "/?Action=Unsubscribe&SubscriptionArn=" + subscription,
			TopicArn:          topicArn,
		},
	}}}, nil
}
