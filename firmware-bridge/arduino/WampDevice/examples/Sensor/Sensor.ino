// Sensor: joins realm "iot" over Serial, publishes a temperature to sensor.<id>.temperature
// every 5 s, and registers sensor.<id>.add (adds two integers) as a callable procedure.
// On the gateway, the serial port config names this device's authid and role.
#include <WampDevice.h>

// 256-byte messages either way: ~1 KB of RAM for buffers and state together.
static uint8_t rxBuf[WAMPDEV_RX_BUF_SIZE(256)];
static uint8_t txBuf[WAMPDEV_TX_BUF_SIZE(256)];
static WampDevice wamp(Serial, rxBuf, sizeof rxBuf, txBuf, sizeof txBuf);
static unsigned long lastPublish;

static void onAdd(wampdev_t *dev, void *, uint64_t request, const wampdev_cbor_t *, const wampdev_cbor_t *args,
                  const wampdev_cbor_t *)
{
    wampdev_cbor_t a, b;
    int64_t x, y;
    if (!args || wampdev_cbor_array_at(args, 0, &a) != 0 || wampdev_cbor_array_at(args, 1, &b) != 0 ||
        wampdev_cbor_get_int(&a, &x) != 0 || wampdev_cbor_get_int(&b, &y) != 0) {
        if (wampdev_error_begin(dev, WAMPDEV_MSG_INVOCATION, request, "wamp.error.invalid_argument", 0)) wampdev_send(dev);
        return;
    }
    wampdev_cbor_writer_t *w = wampdev_yield_begin(dev, request, 1);
    if (!w) return;
    wampdev_cbor_put_array(w, 1);
    wampdev_cbor_put_int(w, x + y);
    wampdev_send(dev);
}

static void onJoin(WampDevice &device, uint64_t)
{
    // Registrations do not survive a session: make them on every join.
    device.registerProcedure("sensor.kitchen.add", onAdd);
}

static float readTemperature()
{
    // Replace with the real sensor; the internal ADC on A0 as a stand-in.
    return analogRead(A0) * (500.0f / 1023.0f) / 10.0f;
}

void setup()
{
    Serial.begin(115200);
    wamp.onJoin(onJoin);
    wamp.begin("iot");
}

void loop()
{
    wamp.loop();
    if (wamp.joined() && millis() - lastPublish >= 5000) {
        lastPublish = millis();
        wamp.publish("sensor.kitchen.temperature", (double)readTemperature());
    }
}
