package eventgen

import (
	"cmp"
	"time"
)

// dynamoDBRecords is events.DynamoDBEvent.
type dynamoDBRecords struct {
	Records []dynamoDBRecord `json:"Records"`
}

// dynamoDBRecord is events.DynamoDBEventRecord, keys in AWS's order.
type dynamoDBRecord struct {
	EventID        string         `json:"eventID"`
	EventName      string         `json:"eventName"`
	EventVersion   string         `json:"eventVersion"`
	EventSource    string         `json:"eventSource"`
	AWSRegion      string         `json:"awsRegion"`
	DynamoDB       dynamoDBChange `json:"dynamodb"`
	EventSourceARN string         `json:"eventSourceARN"`
}

// dynamoDBChange is events.DynamoDBStreamRecord. Attribute values are in DynamoDB's JSON form,
// {"N": "101"}, as events.DynamoDBAttributeValue reads them.
type dynamoDBChange struct {
	ApproximateCreationDateTime int64                        `json:"ApproximateCreationDateTime"`
	Keys                        map[string]map[string]string `json:"Keys"`
	NewImage                    map[string]map[string]string `json:"NewImage,omitempty"`
	OldImage                    map[string]map[string]string `json:"OldImage,omitempty"`
	SequenceNumber              string                       `json:"SequenceNumber"`
	SizeBytes                   int64                        `json:"SizeBytes"`
	StreamViewType              string                       `json:"StreamViewType"`
}

// dynamoDBEvent is a stream batch with the three things that happen to an item: it is inserted,
// modified, then removed (the sample `sam local generate-event dynamodb update` prints). The
// stream shows old and new images. All three records share the creation time, now, in seconds.
func dynamoDBEvent(o Options, now time.Time) (any, error) {
	w := locate(o)
	// The stream's label is the time the stream was enabled, fixed like the other ids.
	stream := w.arn("dynamodb", "table/"+cmp.Or(o.Table, "ExampleTableWithStream")+"/stream/2015-06-27T00:48:05.899")
	keys := map[string]map[string]string{"Id": {"N": "101"}}
	created := map[string]map[string]string{"Id": {"N": "101"}, "Message": {"S": "New item!"}}
	changed := map[string]map[string]string{"Id": {"N": "101"}, "Message": {"S": "This item has changed"}}
	record := func(id, name, seq string, size int64, newImage, oldImage map[string]map[string]string) dynamoDBRecord {
		return dynamoDBRecord{
			EventID:      id,
			EventName:    name,
			EventVersion: "1.1",
			EventSource:  "aws:dynamodb",
			AWSRegion:    w.region,
			DynamoDB: dynamoDBChange{
				ApproximateCreationDateTime: now.Unix(),
				Keys:                        keys,
				NewImage:                    newImage,
				OldImage:                    oldImage,
				SequenceNumber:              seq,
				SizeBytes:                   size,
				StreamViewType:              "NEW_AND_OLD_IMAGES",
			},
			EventSourceARN: stream,
		}
	}
	return dynamoDBRecords{Records: []dynamoDBRecord{
		record("c4ca4238a0b923820dcc509a6f75849b", "INSERT", "4421584500000000017450439091", 26, created, nil),
		record("c81e728d9d4c2f636f067f89cc14862c", "MODIFY", "4421584500000000017450439092", 59, changed, created),
		record("eccbc87e4b5ce2fe28308fd9f2a7baf3", "REMOVE", "4421584500000000017450439093", 38, nil, changed),
	}}, nil
}
