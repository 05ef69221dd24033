// A Delete button that asks once more in place ("Confirm delete" / "Keep it"): the lists of integrations and of
// notification rules delete this way.
export function ConfirmDelete(props: {
  /** Names the thing in the button's accessible name ("Delete Orders endpoint"). */
  name: string;
  confirming: boolean;
  onAsk: () => void;
  onCancel: () => void;
  onConfirm: () => void;
}) {
  if (!props.confirming)
    return (
      <button type="button" className="button-secondary" aria-label={`Delete ${props.name}`} onClick={props.onAsk}>
        Delete
      </button>
    );
  return (
    <>
      <button type="button" className="button-danger" onClick={props.onConfirm}>
        Confirm delete
      </button>
      <button type="button" className="button-secondary" onClick={props.onCancel}>
        Keep it
      </button>
    </>
  );
}
