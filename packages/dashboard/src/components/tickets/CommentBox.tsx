// Adding a comment: a public reply the requester will see, or an internal note for the team.
import { type FormEvent, useState } from 'react';
import { ApiError, addComment, describeError, type ErrorDetail } from '../../api.ts';
import { ErrorNotice } from '../Notices.tsx';

export function CommentBox({ ticketId, onPosted }: { ticketId: string; onPosted: () => Promise<void> }) {
  const [body, setBody] = useState('');
  const [isPublic, setIsPublic] = useState(true);
  const [posting, setPosting] = useState(false);
  const [error, setError] = useState<{ message: string; details: ErrorDetail[] } | null>(null);

  async function handleSubmit(event: FormEvent) {
    event.preventDefault();
    setPosting(true);
    setError(null);
    try {
      await addComment(ticketId, body, isPublic);
      setBody('');
      await onPosted();
    } catch (e) {
      setError({ message: describeError(e), details: e instanceof ApiError ? e.details : [] });
    } finally {
      setPosting(false);
    }
  }

  return (
    <form className="card comment-box" onSubmit={(e) => void handleSubmit(e)} aria-labelledby="comment-title">
      <h2 id="comment-title">Add a comment</h2>
      <div className="field">
        <label htmlFor="comment-body">Comment</label>
        <textarea
          id="comment-body"
          rows={4}
          required
          maxLength={65535}
          value={body}
          onChange={(e) => setBody(e.target.value)}
        />
      </div>
      <fieldset className="visibility">
        <legend>Visibility</legend>
        <label>
          <input type="radio" name="comment-visibility" checked={isPublic} onChange={() => setIsPublic(true)} />
          Public reply
        </label>
        <label>
          <input type="radio" name="comment-visibility" checked={!isPublic} onChange={() => setIsPublic(false)} />
          Internal note
        </label>
      </fieldset>
      {error && <ErrorNotice message={error.message} details={error.details} />}
      <button type="submit" disabled={posting || body.trim() === ''}>
        {posting ? 'Posting…' : isPublic ? 'Send reply' : 'Add internal note'}
      </button>
    </form>
  );
}
