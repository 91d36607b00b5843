// A minimal browser client of /ws/video, loaded into the e2e test's pages: it uses nothing but the browser's own
// fetch, WebSocket and RTCPeerConnection. Whoever joins second calls everyone already in the room (from `peers`);
// every data channel greets the other side once, and the run resolves when a greeting has arrived.
'use strict';

window.runVideoClient = function runVideoClient({ wsUrl, iceServersUrl, token, greeting, timeoutMs }) {
  const connections = new Map(); // peer_id -> RTCPeerConnection
  const result = { peerId: undefined, remotePeerId: undefined, remoteUserId: undefined, received: undefined, localAddress: undefined };
  let ws;

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out: ${describe()}`)), timeoutMs);
    const fail = (error) => {
      clearTimeout(timer);
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const send = (type, data) => ws.send(JSON.stringify({ type, data }));

    function describe() {
      const pcs = [...connections.entries()].map(([id, pc]) => `${id}: ${pc.connectionState}/${pc.iceConnectionState}`);
      return `ws ${ws ? ws.readyState : 'none'}, peer ${result.peerId}, connections [${pcs.join(', ')}]`;
    }

    function connectionTo(peerId, iceServers) {
      let pc = connections.get(peerId);
      if (pc) return pc;
      pc = new RTCPeerConnection({ iceServers });
      pc.onicecandidate = (event) => {
        if (event.candidate) send('ice_candidate', { to: peerId, candidate: event.candidate.toJSON() });
      };
      pc.ondatachannel = (event) => useChannel(event.channel, pc);
      connections.set(peerId, pc);
      return pc;
    }

    function useChannel(channel, pc) {
      if (channel.readyState === 'open') channel.send(greeting);
      else channel.onopen = () => channel.send(greeting);
      channel.onmessage = async (event) => {
        result.received = event.data;
        result.localAddress = await selectedLocalAddress(pc);
        clearTimeout(timer);
        resolve(result);
      };
    }

    async function start() {
      const response = await fetch(iceServersUrl, { headers: { authorization: `Bearer ${token}` } });
      if (!response.ok) throw new Error(`ice-servers: HTTP ${response.status}`);
      const { ice_servers: iceServers } = await response.json();

      ws = new WebSocket(wsUrl);
      ws.onclose = (event) => fail(new Error(`signaling closed ${event.code} ${event.reason}`));
      // handle messages one at a time, in order: a candidate must not overtake the offer it belongs to
      let queue = Promise.resolve();
      ws.onmessage = (event) => {
        const message = JSON.parse(event.data);
        queue = queue.then(() => handle(message, iceServers)).catch(fail);
      };
    }

    async function handle({ type, data }, iceServers) {
      switch (type) {
        case 'peers':
          result.peerId = data.peer_id;
          window.videoPeerId = data.peer_id;
          for (const peer of data.peers) {
            result.remotePeerId = peer.peer_id;
            result.remoteUserId = peer.user_id;
            const pc = connectionTo(peer.peer_id, iceServers);
            useChannel(pc.createDataChannel('chat'), pc);
            await pc.setLocalDescription();
            send('offer', { to: peer.peer_id, sdp: pc.localDescription.sdp });
          }
          return;
        case 'offer': {
          result.remotePeerId = data.from;
          result.remoteUserId = data.from_user_id;
          const pc = connectionTo(data.from, iceServers);
          await pc.setRemoteDescription({ type: 'offer', sdp: data.sdp });
          await pc.setLocalDescription();
          send('answer', { to: data.from, sdp: pc.localDescription.sdp });
          return;
        }
        case 'answer':
          await connectionTo(data.from, iceServers).setRemoteDescription({ type: 'answer', sdp: data.sdp });
          return;
        case 'ice_candidate':
          await connectionTo(data.from, iceServers).addIceCandidate(data.candidate);
          return;
        case 'peer_left': {
          const pc = connections.get(data.peer_id);
          if (pc) pc.close();
          connections.delete(data.peer_id);
          return;
        }
        case 'error':
          throw new Error(`signaling error ${data.code}: ${data.message}`);
      }
    }

    start().catch(fail);
  });
};

async function selectedLocalAddress(pc) {
  const stats = await pc.getStats();
  for (const report of stats.values()) {
    if (report.type === 'candidate-pair' && report.nominated && report.state === 'succeeded') {
      const local = stats.get(report.localCandidateId);
      return local ? local.address : undefined;
    }
  }
  return undefined;
}

/** Join and report how the server answered: the close code and reason, or the `peers` message. */
window.tryJoin = function tryJoin({ wsUrl }) {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl);
    const messages = [];
    ws.onmessage = (event) => messages.push(JSON.parse(event.data).type);
    ws.onclose = (event) => resolve({ code: event.code, reason: event.reason, messages });
  });
};
