"""Recording: live channels remuxed (``streaming/remux``) into files on disk.

``Recorder`` keeps one ``ChannelRemux`` per recorded channel; ``FileSink`` writes each
fragment to the file as it completes (so a crash leaves a playable file); ``disk`` has
the free-space floor and the retention sweep. The index of files is kept by the control
plane (``signaling/records/recordings.py``) through the ``RecordingJournal`` port.
"""
