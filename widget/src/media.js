// Uploads (with progress and cancel) and voice recording (MediaRecorder, level meter,
// cancel, a maximum length).

// POST /api/uploads with the conversation token. Resolves to the server's answer;
// rejects with an Error whose message is the server's (it names the limit).
export function upload(server, token, file, name, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open("POST", server + "/api/uploads");
    xhr.setRequestHeader("Authorization", "Bearer " + token);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON: a proxy's error page */
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new Error(body.message || `Upload failed (HTTP ${xhr.status}).`));
    };
    xhr.onerror = () => reject(new Error("The upload failed; check the connection."));
    xhr.onabort = () => reject(new DOMException("cancelled", "AbortError"));
    const form = new FormData();
    form.append("file", file, name);
    xhr.send(form);
  });
  return { done, cancel: () => xhr.abort() };
}

const MIME = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];

// Records from the microphone until stop() (resolves with a Blob), cancel() (resolves
// with null) or maxSeconds. onLevel(0..1) and onTick(seconds) drive the meter and clock.
export async function record({ maxSeconds, onLevel, onTick }) {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const type = MIME.find((t) => window.MediaRecorder && MediaRecorder.isTypeSupported(t));
  const recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
  const chunks = [];
  recorder.ondataavailable = (e) => e.data.size && chunks.push(e.data);
  const Audio = window.AudioContext || window.webkitAudioContext;
  const context = Audio ? new Audio() : null;
  let frame = 0;
  if (context) {
    const analyser = context.createAnalyser();
    analyser.fftSize = 512;
    context.createMediaStreamSource(stream).connect(analyser);
    const data = new Uint8Array(analyser.fftSize);
    const meter = () => {
      analyser.getByteTimeDomainData(data);
      let peak = 0;
      for (const v of data) peak = Math.max(peak, Math.abs(v - 128) / 128);
      onLevel(peak);
      frame = requestAnimationFrame(meter);
    };
    meter();
  }
  const started = Date.now();
  let cancelled = false;
  const finished = new Promise((resolve) => {
    recorder.onstop = () => {
      cancelAnimationFrame(frame);
      clearInterval(clock);
      stream.getTracks().forEach((t) => t.stop());
      if (context) context.close();
      resolve(cancelled ? null : new Blob(chunks, { type: recorder.mimeType || "audio/webm" }));
    };
  });
  const clock = setInterval(() => {
    const seconds = (Date.now() - started) / 1000;
    onTick(seconds);
    if (seconds >= maxSeconds && recorder.state === "recording") recorder.stop();
  }, 250);
  recorder.start(250);
  return {
    finished,
    stop: () => recorder.state === "recording" && recorder.stop(),
    cancel: () => {
      cancelled = true;
      if (recorder.state === "recording") recorder.stop();
    },
  };
}

export function extensionFor(type) {
  if (type.includes("ogg")) return "ogg";
  if (type.includes("mp4")) return "m4a";
  return "webm";
}
