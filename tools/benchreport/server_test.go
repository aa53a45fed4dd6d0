package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSustainedDeliveries(t *testing.T) {
	on := FanoutStep{OfferedMsgsPerSec: 2000, SentMsgsPerSec: 1999.8, DeliveriesPerSec: 19998, Sustained: true}
	assert.Equal(t, 20000.0, sustainedDeliveries(on, 10), "a step that kept up is credited its offered rate")

	late := on
	late.SentMsgsPerSec = 1960 // 98% went out: sustained by the loose rule, but not on time
	late.DeliveriesPerSec = 19600
	assert.Equal(t, 19600.0, sustainedDeliveries(late, 10))

	skipped := on
	skipped.Skipped = 3
	assert.Equal(t, 19998.0, sustainedDeliveries(skipped, 10))

	lost := on
	lost.Sustained = false
	assert.Equal(t, 19998.0, sustainedDeliveries(lost, 10))
}
