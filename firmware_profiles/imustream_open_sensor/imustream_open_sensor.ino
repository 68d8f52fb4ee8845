/*
  imustream open sensor: reference firmware for the "imustream-open" profile
  (firmware_profiles/imustream-open.toml). Clip it on a shoe or the pelvis.

  Board     : Seeed Studio XIAO nRF52840 Sense (nRF52840 + LSM6DS3TR-C 6-axis IMU on board)
              Arduino board package "Seeed nRF52 mbed-enabled Boards" (mbed core: ArduinoBLE runs on it)
  Libraries : ArduinoBLE (Arduino), Seeed Arduino LSM6DS3 (Seeed Studio) - both in the Library Manager
  Power     : a 3.7 V LiPo on the BAT pads (the board charges it over USB-C)

  Protocol (must match imustream-open.toml):
    service   4e5a0001-1b2c-4d3e-9f40-696d75737472  (advertised)
    data      4e5a0002-...  notify: [u16 seq][u32 t_us][N x (ax ay az gx gy gz) int16], little-endian
                            seq   : +1 per notification, wraps at 65536
                            t_us  : micros() when the FIRST sample of the packet was read (wraps at 2^32)
                            acc   : 1 LSB = 16 g / 32768     (saturates at +-16 g)
                            gyro  : 1 LSB = 2000 deg/s / 32768 (saturates at +-2000 deg/s)
    control   4e5a0003-...  write: [0x01, u16 rate Hz] start (rate 50, 100 or 200), [0x00] stop
    battery   standard 0x180F / 0x2A19 (percent, read + notify)
  Axes: the IMU's own axes as printed on the board (sensor frame), right-handed.
*/

#include <ArduinoBLE.h>
#include <LSM6DS3.h>
#include <Wire.h>

// Samples per notification. 1 sample = 6 + 12 = 18 bytes, which fits the default ATT MTU (23).
// With a central that negotiates a larger MTU (bleak on Linux/macOS/Windows does), up to 19
// samples fit (6 + 12 * 19 = 234 <= 244); fewer notifications per second save power.
const int SAMPLES_PER_PACKET = 1;
const int HEADER_BYTES = 6;
const int SAMPLE_BYTES = 12;
const int PACKET_BYTES = HEADER_BYTES + SAMPLES_PER_PACKET * SAMPLE_BYTES;

const float ACC_LSB_PER_G = 32768.0f / 16.0f;      // profile: acc_scale = 16 / 32768 g
const float GYR_LSB_PER_DPS = 32768.0f / 2000.0f;  // profile: gyr_scale = 2000 / 32768 deg/s

BLEService imuService("4e5a0001-1b2c-4d3e-9f40-696d75737472");
BLECharacteristic dataChar("4e5a0002-1b2c-4d3e-9f40-696d75737472", BLENotify, PACKET_BYTES, true);
BLECharacteristic controlChar("4e5a0003-1b2c-4d3e-9f40-696d75737472", BLEWrite, 3, false);
BLEService batteryService("180F");
BLEUnsignedCharCharacteristic batteryChar("2A19", BLERead | BLENotify);

LSM6DS3 imu(I2C_MODE, 0x6A);

uint8_t packet[PACKET_BYTES];
int samplesInPacket = 0;
uint16_t seq = 0;
bool streaming = false;
uint32_t periodUs = 10000;  // 100 Hz until the central asks for another rate
uint32_t nextSampleUs = 0;
uint32_t lastBatteryMs = 0;
String deviceName;  // must outlive setup(): re-advertising after a disconnect reads it

static void putU16(uint8_t *p, uint16_t v) { p[0] = v & 0xFF; p[1] = v >> 8; }
static void putU32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (v >> (8 * i)) & 0xFF; }

// Round to the nearest LSB and saturate like an ADC (never wrap around).
static int16_t quantise(float value, float lsbPerUnit) {
  float raw = value * lsbPerUnit;
  if (raw > 32767.0f) return 32767;
  if (raw < -32768.0f) return -32768;
  return (int16_t)lroundf(raw);
}

static void onControlWritten(BLEDevice, BLECharacteristic ch) {
  const uint8_t *v = ch.value();
  int len = ch.valueLength();
  if (len >= 3 && v[0] == 0x01) {
    uint16_t rate = v[1] | (v[2] << 8);
    if (rate != 50 && rate != 100 && rate != 200) return;  // only the rates the profile offers
    periodUs = 1000000UL / rate;
    samplesInPacket = 0;
    nextSampleUs = micros();
    streaming = true;
  } else if (len >= 1 && v[0] == 0x00) {
    streaming = false;
  }
}

static void onDisconnected(BLEDevice) { streaming = false; }

static uint8_t batteryPercent() {
  // XIAO nRF52840: VBAT through a 1M/510k divider on PIN_VBAT, enabled by pulling VBAT_ENABLE low.
  digitalWrite(VBAT_ENABLE, LOW);
  float volts = analogRead(PIN_VBAT) * (3.3f / 1023.0f) * (1510.0f / 510.0f);
  float pct = (volts - 3.3f) / (4.2f - 3.3f) * 100.0f;  // rough linear LiPo model
  return (uint8_t)constrain(pct, 0.0f, 100.0f);
}

void setup() {
  pinMode(LED_BUILTIN, OUTPUT);
  pinMode(VBAT_ENABLE, OUTPUT);

  // +-16 g and +-2000 deg/s so foot strikes do not clip more than they must; the IMU runs at
  // 416 Hz with its anti-alias filter, the sketch samples it at the requested rate.
  imu.settings.accelRange = 16;
  imu.settings.gyroRange = 2000;
  imu.settings.accelSampleRate = 416;
  imu.settings.gyroSampleRate = 416;
  imu.settings.accelBandWidth = 200;
  if (imu.begin() != 0) {
    while (true) { digitalWrite(LED_BUILTIN, !digitalRead(LED_BUILTIN)); delay(100); }  // IMU fault
  }
  if (!BLE.begin()) {
    while (true) { digitalWrite(LED_BUILTIN, !digitalRead(LED_BUILTIN)); delay(500); }  // radio fault
  }

  String addr = BLE.address();  // "aa:bb:cc:dd:ee:ff"
  deviceName = String("imustream-") + addr.substring(12, 14) + addr.substring(15, 17);  // ^imustream-
  BLE.setLocalName(deviceName.c_str());  // ArduinoBLE keeps the pointer: deviceName is global
  BLE.setDeviceName(deviceName.c_str());
  BLE.setConnectionInterval(6, 12);  // 7.5-15 ms (units of 1.25 ms)

  imuService.addCharacteristic(dataChar);
  imuService.addCharacteristic(controlChar);
  BLE.addService(imuService);
  batteryService.addCharacteristic(batteryChar);
  BLE.addService(batteryService);
  BLE.setAdvertisedService(imuService);
  controlChar.setEventHandler(BLEWritten, onControlWritten);
  BLE.setEventHandler(BLEDisconnected, onDisconnected);
  batteryChar.writeValue(batteryPercent());
  BLE.advertise();
}

void loop() {
  BLE.poll();
  uint32_t nowMs = millis();
  if (nowMs - lastBatteryMs > 10000) {
    lastBatteryMs = nowMs;
    batteryChar.writeValue(batteryPercent());
  }
  if (!streaming || !BLE.connected()) return;

  uint32_t now = micros();
  if ((int32_t)(now - nextSampleUs) < 0) return;  // wrap-safe comparison
  nextSampleUs += periodUs;
  if ((int32_t)(now - nextSampleUs) > (int32_t)(4 * periodUs)) nextSampleUs = now + periodUs;  // fell behind

  if (samplesInPacket == 0) {
    putU16(packet, seq);
    putU32(packet + 2, now);  // time of the first sample in this packet
  }
  uint8_t *s = packet + HEADER_BYTES + samplesInPacket * SAMPLE_BYTES;
  putU16(s + 0, quantise(imu.readFloatAccelX(), ACC_LSB_PER_G));
  putU16(s + 2, quantise(imu.readFloatAccelY(), ACC_LSB_PER_G));
  putU16(s + 4, quantise(imu.readFloatAccelZ(), ACC_LSB_PER_G));
  putU16(s + 6, quantise(imu.readFloatGyroX(), GYR_LSB_PER_DPS));
  putU16(s + 8, quantise(imu.readFloatGyroY(), GYR_LSB_PER_DPS));
  putU16(s + 10, quantise(imu.readFloatGyroZ(), GYR_LSB_PER_DPS));
  if (++samplesInPacket == SAMPLES_PER_PACKET) {
    dataChar.writeValue(packet, PACKET_BYTES);  // a notification; a dropped one shows as a seq gap
    seq++;
    samplesInPacket = 0;
  }
}
