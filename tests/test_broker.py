"""The embedded broker: messages cross the shared folder whole."""

import os

from kombu import Connection

from cube.broker import Transport


def test_messages_round_trip_and_are_never_written_under_their_final_name(tmp_path, monkeypatch):
    folder = str(tmp_path)
    # kombu keeps exchange bindings in control_folder, relative to the cwd when not given.
    options = {
        "data_folder_in": folder,
        "data_folder_out": folder,
        "control_folder": str(tmp_path / "control"),
    }
    written = []
    real_open = open

    def spying_open(path, mode="r", *args, **kwargs):
        if "w" in mode:
            written.append(os.path.basename(path))
        return real_open(path, mode, *args, **kwargs)

    with Connection(transport=Transport, transport_options=options) as connection:
        queue = connection.SimpleQueue("jobs")
        monkeypatch.setattr("builtins.open", spying_open)
        queue.put({"instance": 1})
        queue.put({"instance": 2})
        monkeypatch.undo()
        received = [queue.get(timeout=1), queue.get(timeout=1)]
        for message in received:
            message.ack()
        queue.close()
    assert sorted(message.payload["instance"] for message in received) == [1, 2]
    # A consumer only picks up "*.msg" names: a file opened under one could be read empty.
    assert written and not any(name.endswith(".msg") for name in written)
    assert not [name for name in os.listdir(folder) if "partial" in name]
