// @ts-check
// The camera and microphone a page sends, chosen in two <select>s and remembered in
// localStorage (by device id), so a reload or a reconnect keeps the same devices.

export class DevicePicker {
  /**
   * @param {HTMLSelectElement} camera
   * @param {HTMLSelectElement} microphone
   * @param {string} storageKey where the choice is remembered
   */
  constructor(camera, microphone, storageKey) {
    this.camera = camera;
    this.microphone = microphone;
    this.storageKey = storageKey;
    /** @type {{ camera?: string, microphone?: string }} */
    this.saved = readSaved(storageKey);
    /** @type {MediaStream | null} */
    this.stream = null;
  }

  /** Fills both lists (labels appear once the browser has allowed a device) and picks the remembered ones. */
  async list() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    /** @type {Array<[HTMLSelectElement, MediaDeviceKind, "camera" | "microphone"]>} */
    const pickers = [[this.camera, "videoinput", "camera"], [this.microphone, "audioinput", "microphone"]];
    for (const [select, kind, key] of pickers) {
      const current = select.value;
      select.replaceChildren();
      devices.filter((d) => d.kind === kind).forEach((d, i) => {
        select.append(new Option(d.label || `${kind} ${i + 1}`, d.deviceId));
      });
      const wanted = this.saved[key] || current;
      if (wanted && [...select.options].some((o) => o.value === wanted)) select.value = wanted;
    }
  }

  /** Opens the chosen devices (the browser's defaults when none is chosen); stops the old ones. */
  async open() {
    const camera = this.camera.value;
    const microphone = this.microphone.value;
    const media = await navigator.mediaDevices.getUserMedia({
      video: { ...(camera ? { deviceId: { exact: camera } } : {}), width: 1280, height: 720, frameRate: 30 },
      audio: microphone ? { deviceId: { exact: microphone } } : true,
    });
    this.close();
    this.stream = media;
    return media;
  }

  /** Remembers what the lists show now. */
  remember() {
    this.saved.camera = this.camera.value;
    this.saved.microphone = this.microphone.value;
    localStorage.setItem(this.storageKey, JSON.stringify(this.saved));
  }

  /** Stops the open devices (the camera light goes off). */
  close() {
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    this.stream = null;
  }
}

/**
 * @param {string} key
 * @returns {{ camera?: string, microphone?: string }}
 */
function readSaved(key) {
  try {
    const value = JSON.parse(localStorage.getItem(key) || "{}");
    return value && typeof value === "object" ? value : {};
  } catch {
    return {};
  }
}
